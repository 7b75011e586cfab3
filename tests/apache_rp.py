"""Apache httpd with mod_auth_openidc (Debian's apache2 and libapache2-mod-auth-openidc) as a
relying party and as a resource server of `authserver serve`, started by a test: its own
configuration file (the system's is never read), 127.0.0.1 on a free port, in the foreground
as a child process that the test stops. .ci/run installs the packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
NEEDED = ("mpm_event", "authn_core", "authz_core", "authz_user", "headers", "mime",
          "auth_openidc")


@dataclass(frozen=True)
class RelyingPartySettings:
    """What the Apache side is told about the server and its two clients."""

    issuer: str
    client_id: str
    client_secret: str
    resource_client_id: str
    resource_client_secret: str


def require_apache() -> None:
    if not Path(APACHE).exists() or not Path(f"{MODULES}/mod_auth_openidc.so").exists():
        if os.environ.get("CI"):
            pytest.fail("apache2 and libapache2-mod-auth-openidc are needed; .ci/run installs them")
        pytest.skip("apache2 with mod_auth_openidc is not installed")


def configuration(root: Path, port: int, rp: RelyingPartySettings) -> str:
    loads = "\n".join(f"LoadModule {name}_module {MODULES}/mod_{name}.so" for name in NEEDED)
    # Run as root (CI), httpd's children must switch to an unprivileged user.
    user = "User nobody\nGroup nogroup\n" if os.geteuid() == 0 else ""
    base = f"http://127.0.0.1:{port}"
    return f"""
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/httpd.pid"
DefaultRuntimeDir "{root}"
ErrorLog "{root}/error.log"
LogLevel warn auth_openidc:info
{loads}
{user}
TypesConfig /etc/mime.types
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Require all granted
</Directory>

OIDCProviderMetadataURL {rp.issuer}/.well-known/openid-configuration
OIDCClientID {rp.client_id}
OIDCClientSecret {rp.client_secret}
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCRedirectURI {base}/app/redirect_uri
OIDCCryptoPassphrase {os.urandom(16).hex()}
OIDCScope "openid profile email"
OIDCPKCEMethod S256
OIDCPassClaimsAs environment
OIDCPassRefreshToken On
# The server's access tokens live 60 s here: refreshed on every request.
OIDCRefreshAccessTokenBeforeExpiry 3600

# From the server's metadata (RFC 8414): a plain http endpoint given directly is refused.
OIDCOAuthServerMetadataURL {rp.issuer}/.well-known/oauth-authorization-server
OIDCOAuthIntrospectionEndpointAuth client_secret_basic
OIDCOAuthClientID {rp.resource_client_id}
OIDCOAuthClientSecret {rp.resource_client_secret}

<Location /app>
    AuthType openid-connect
    Require valid-user
    Header always set X-Remote-User "expr=%{{REMOTE_USER}}"
    Header always set X-Access-Token "%{{OIDC_access_token}}e"
    Header always set X-Email "%{{OIDC_CLAIM_email}}e"
    Header always set Cache-Control no-store
</Location>
<Location /api>
    AuthType oauth20
    Require valid-user
    Header always set X-Remote-User "expr=%{{REMOTE_USER}}"
    Header always set X-Token-Client "%{{OIDC_CLAIM_client_id}}e"
</Location>
"""


@dataclass
class Apache:
    base_url: str
    root: Path

    def error_log(self) -> str:
        log = self.root / "error.log"
        return log.read_text(errors="replace") if log.exists() else ""


@contextmanager
def apache(port: int, rp: RelyingPartySettings) -> Iterator[Apache]:
    # Readable by httpd's unprivileged children (pytest's own temp directories are 0700).
    root = Path(tempfile.mkdtemp(prefix="authserver-apache-"))
    root.chmod(0o755)
    for page in ("app", "api"):
        (root / "htdocs" / page).mkdir(parents=True)
        (root / "htdocs" / page / "index.html").write_text(f"<p>{page}</p>\n")
        for path in (root / "htdocs", root / "htdocs" / page):
            path.chmod(0o755)
    config = root / "httpd.conf"
    config.write_text(configuration(root, port, rp))
    process = subprocess.Popen([APACHE, "-f", str(config), "-DFOREGROUND"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    server = Apache(f"http://127.0.0.1:{port}", root)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_up(server: Apache, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"apache2 exited: {process.stderr.read() if process.stderr else ''}"
                                 f"\n{server.error_log()}")
        try:
            httpx.get(server.base_url + "/api/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"apache2 did not answer:\n{server.error_log()}")
