"""`authserver db ...`: schema upgrades and housekeeping."""

from __future__ import annotations

import click

from ..db import Database, migrate
from ..store.housekeeping import prune as prune_expired
from ._common import echo_json, load_settings
from .errors import Group


@click.group(cls=Group)
def db() -> None:
    """Database schema and housekeeping."""


@db.command("upgrade")
def upgrade() -> None:
    """Apply the Alembic migrations (serve and every command also do this first)."""
    click.echo(migrate(load_settings()).describe())


@db.command("prune")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows deleted per transaction.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def prune(batch_size: int, as_json: bool) -> None:
    """Delete expired authorization codes, expired refresh tokens, and refresh token families
    that expired or were revoked more than a day ago. Safe to run while serving (from cron)."""
    settings = load_settings()
    migrate(settings)
    database = Database(settings)
    try:
        counts = prune_expired(database.session_factory, batch_size=batch_size)
    finally:
        database.dispose()
    if as_json:
        echo_json(counts.to_dict())
        return
    for name, count in counts.to_dict().items():
        click.echo(f"{name}: {count} deleted")
