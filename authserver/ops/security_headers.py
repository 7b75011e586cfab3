"""Security headers on every response; a strict Content Security Policy on HTML pages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, g

# The pages load only our stylesheet and, where passkeys are offered, our one script
# (static/passkeys.js: SCRIPTS), which posts JSON to this server only.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'{extra}{scripts}"
)
SCRIPTS = "; script-src 'self'; connect-src 'self'"


# What a CSP source built from a redirect URI may consist of: built from parsed parts, each
# checked, never pasted (a ";" would start a directive of its own).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")


def allow_form_redirect_to(uri: str) -> None:
    """Let this page's form lead to `uri`'s origin: Chromium applies form-action to the
    redirect that follows a form post, and the consent form ends in a redirect to the client."""
    parts = urlsplit(uri)
    if not _SCHEME.fullmatch(parts.scheme or ""):
        return
    if parts.scheme not in ("http", "https"):
        g.csp_form_action = f"{parts.scheme}:"
        return
    host = parts.netloc.rpartition("@")[2]
    hostname, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not port.isdigit():
        hostname, port = host, ""
    if _HOST.fullmatch(hostname) and (not port or len(port) <= 5):
        g.csp_form_action = f"{parts.scheme}://{hostname}" + (f":{port}" if port else "")


def install(app: Flask, *, hsts_max_age: int = 0) -> None:
    """hsts_max_age > 0 (an https issuer) adds Strict-Transport-Security to every response."""

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if hsts_max_age:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts_max_age}")
        if response.mimetype == "text/html":
            extra = g.get("csp_form_action")
            response.headers["Content-Security-Policy"] = PAGE_POLICY.format(
                extra=f" {extra}" if extra else "",
                scripts=SCRIPTS if g.get("csp_scripts") else "",
            )
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Cache-Control"] = "no-store"
        return response
