"""`authserver status`: which issuer, database, key store and files this command would use,
and their state, read without changing anything (no migration, no key made)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from ..db import head_revision, schema_revision
from ..db_trouble import DatabaseUnusable
from ._common import echo_json, load_settings
from .where import describe_state


def _schema(database_url: str) -> tuple[str, bool]:
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return "no database file yet (`authserver db upgrade` or `serve` creates it)", True
    try:
        current = schema_revision(database_url)
    except Exception as exc:  # whatever the driver raises: said in one line, not a traceback
        return str(DatabaseUnusable.from_error(exc, database_url)), False
    head = head_revision()
    if current is None:
        return "no schema yet (`authserver db upgrade` or `serve` creates it)", True
    if current != head:
        return f"revision {current}, {head} is newest: run `authserver db upgrade`", True
    return f"revision {current} (up to date)", True


def _keys(settings: Any) -> str:
    from ..keystore import KeyStore, KeyStoreError

    try:
        store = KeyStore.from_settings(settings)
        if not store.backend.exists():
            return "none yet (`authserver serve` creates the first)"
        try:
            found = store.list_keys()
        finally:
            store.close()
    except KeyStoreError as exc:
        return f"cannot read them: {exc}"
    counts = Counter(key.state for key in found)
    return ", ".join(f"{counts[state]} {state}" for state in ("current", "next", "retired")
                     if counts[state])


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(as_json: bool) -> None:
    """Say which issuer, database, key store and files the server would use here.

    Paths are shown absolute: the defaults (instance/, keys/) are relative to the working
    directory. Exit 1 when the database cannot be used."""
    settings = load_settings()
    state = describe_state(settings)
    schema, usable = _schema(settings.database_url)
    state["schema"] = schema
    state["keys"] = _keys(settings) if usable or settings.key_store == "files" else "unknown"
    if as_json:
        echo_json({name.replace(" ", "_"): value for name, value in state.items()})
    else:
        width = max(len(name) for name in state) + 2
        for name, value in state.items():
            click.echo(f"{name + ':':{width}}{value}")
    if not usable:
        raise SystemExit(1)
