"""`authserver serve`: migrate, prepare the keys, check the address, and serve under Granian."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile

import click

from ..config import PREFIX, ConfigError, Settings
from ..db import migrate
from ..hashing import FAST_HASHING_VARIABLE, fast_hashing
from ._common import load_settings
from .errors import BadInput
from .where import describe_state

WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def issuer_for(settings: Settings, host: str, port: int) -> Settings:
    """The issuer to serve with. AUTHSERVER_ISSUER when set (a proxy in front may answer at
    another address); else the address served, so `--port 5001` gives tokens whose `iss` is
    http://127.0.0.1:5001 and a discovery document that points at this very server."""
    if os.environ.get(PREFIX + "ISSUER"):
        return settings
    if host in WILDCARD_HOSTS or port == 0:
        raise BadInput(f"serve --host {host} --port {port} is no address clients can use as the "
                       "issuer: set AUTHSERVER_ISSUER to the URL they reach this server by")
    shown = f"[{host}]" if ":" in host else host
    try:
        return settings.override(issuer=f"http://{shown}:{port}")
    except ConfigError as exc:
        raise BadInput(f"the default issuer follows --host and --port: {exc}") from None


def port_taken(host: str, port: int) -> OSError | None:
    """Whether something listens on (host, port) already. Granian binds with SO_REUSEPORT, so
    a second server would silently share the port (and split the traffic); a plain bind (with
    SO_REUSEADDR, which a port in TIME_WAIT does not refuse) tells."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise BadInput(f"serve --host {host}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc
    return None


def _warn_if_elsewhere(settings: Settings, host: str, port: int) -> None:
    if not os.environ.get(PREFIX + "ISSUER"):
        return
    served = f"http://{host}:{port}"
    if settings.issuer.rstrip("/") != served:
        click.echo(f"authserver: the issuer is {settings.issuer} (AUTHSERVER_ISSUER), not the "
                   f"address served, {served}: clients must reach this server there (a proxy)",
                   err=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=lambda: min(len(os.sched_getaffinity(0)), 64),
              show_default="one per core", type=click.IntRange(1, 64),
              help="Worker processes (signing is CPU-bound: one per core).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker that run the app (Granian's blocking threads).")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Granian's access log on stdout (the audit log is the record to keep).")
@click.option("--reuse-port", is_flag=True,
              help="Share the port with a server already listening there, on purpose "
                   "(SO_REUSEPORT: the kernel splits connections between them).")
def serve(host: str, port: int, workers: int, threads: int, access_log: bool,
          reuse_port: bool) -> None:
    """Migrate the database, create the first signing keys if needed, and serve under Granian.

    The issuer (every token's `iss`, the base of every URL in discovery) is
    AUTHSERVER_ISSUER when set: the public URL clients use, e.g. https://login.example.com
    with a TLS proxy in front. Unset, it is the address served, http://HOST:PORT (127.0.0.1:5000
    by default): then every other command must run with the same AUTHSERVER_ISSUER if PORT is
    not 5000. A port already in use is an error (exit 1) unless --reuse-port.
    """
    settings = issuer_for(load_settings(), host, port)
    _refuse_test_hashing(settings)
    if not reuse_port and (taken := port_taken(host, port)) is not None:
        raise click.ClickException(
            f"port {port} on {host} is in use ({taken.strerror}): stop what listens there, "
            "choose another --port, or pass --reuse-port to share it on purpose")
    _warn_if_elsewhere(settings, host, port)
    # Before any worker imports prometheus_client: where the workers add up their metrics;
    # removed when the server stops (a metrics file per worker pid would pile up in TMPDIR).
    metrics_dir = tempfile.mkdtemp(prefix="authserver-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _serve(settings, host, port, workers, threads, access_log)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _refuse_test_hashing(settings: Settings) -> None:
    """The test suite's cheap password hashing (hashing.py) never behind a public issuer."""
    if not fast_hashing():
        return
    if settings.issuer.startswith("https://"):
        raise BadInput(f"{FAST_HASHING_VARIABLE} is for the test suite (weak password hashes): "
                       "unset it to serve a deployment")


def _serve(settings: Settings, host: str, port: int, workers: int, threads: int,
           access_log: bool) -> None:
    from ..keystore import KeyStore, KeyStoreError
    from ..ops.granian import run
    from ..web.session import ensure_secret_key

    migration = migrate(settings)
    try:
        keystore = KeyStore.from_settings(settings)
        keystore.ensure()  # a wrong passphrase stops here, before any worker signs anything
        keystore.close()  # no database connection of ours may cross the fork
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None
    ensure_secret_key(settings)  # before the workers fork, so they all share it
    for name, value in describe_state(settings).items():
        click.echo(f"authserver: {name}: {value}", err=True)
    if fast_hashing():
        click.echo(f"authserver: WARNING: {FAST_HASHING_VARIABLE}=1: weak password hashes "
                   "(for the test suite only)", err=True)
    click.echo(f"authserver: {migration.describe()}", err=True)
    run(settings, host=host, port=port, workers=workers, threads=threads, access_log=access_log)
