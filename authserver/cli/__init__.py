"""The `authserver` command: serve, client, api, role, group, user, keys, db.

Exit codes scripts can rely on: 0 success, 1 the operation failed (message on stderr),
2 bad usage or configuration (click's convention).
"""

from __future__ import annotations

import os
import tempfile

import click

from ..db import migrate
from ._common import load_settings
from .apis import api
from .clients import client
from .db import db
from .groups import group
from .keys import keys
from .registration import registration_token
from .roles import role
from .users import user


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="authserver")
def main() -> None:
    """authserver: an OAuth 2 / OpenID Connect authorization server."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=lambda: min(len(os.sched_getaffinity(0)), 64),
              show_default="one per core", type=click.IntRange(1, 64),
              help="Worker processes (signing is CPU-bound: one per core).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker that run the app (Granian's blocking threads).")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Granian's access log on stdout (the audit log is the record to keep).")
def serve(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    """Migrate the database, create the first signing keys if needed, and serve under Granian."""
    from ..keystore import KeyStore, KeyStoreError
    from ..ops.granian import run
    from ..web.session import ensure_secret_key

    settings = load_settings()
    # Before any worker imports prometheus_client: where the workers add up their metrics.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="authserver-metrics-")
    migrate(settings)
    try:
        keystore = KeyStore.from_settings(settings)
        keystore.ensure()  # a wrong passphrase stops here, before any worker signs anything
        keystore.close()  # no database connection of ours may cross the fork
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None
    ensure_secret_key(settings)  # before the workers fork, so they all share it
    run(settings, host=host, port=port, workers=workers, threads=threads, access_log=access_log)


main.add_command(client)
main.add_command(api)
main.add_command(role)
main.add_command(group)
main.add_command(registration_token)
main.add_command(user)
main.add_command(keys)
main.add_command(db)
