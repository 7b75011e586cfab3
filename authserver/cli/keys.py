"""`authserver keys ...`: list, rotate, prune and withdraw the signing keys (rotation has the
same logic as scripts/rotate_keys.py)."""

from __future__ import annotations

import click

from ..keystore import KeyInfo, KeyStore, KeyStoreError
from ._common import audit_admin, echo_json, load_settings


def _store() -> KeyStore:
    return KeyStore.from_settings(load_settings())


def _run(action):  # type: ignore[no-untyped-def]
    try:
        return action()
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def keys() -> None:
    """Manage the rotating signing keys in AUTHSERVER_KEYS_DIR."""


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_keys(as_json: bool) -> None:
    """Show every key: kid, state, created, retires-at."""
    found: list[KeyInfo] = _run(_store().list_keys)
    if as_json:
        echo_json({"keys": [k.to_dict() for k in found]})
        return
    click.echo(f"{'kid':45} {'state':8} {'created':21} retires-at")
    for key in found:
        info = key.to_dict()
        click.echo(f"{key.kid:45} {key.state:8} {info['created_at']:21} {info['retires_at'] or '-'}")


@keys.command("rotate")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option("--force", is_flag=True,
              help="Rotate even if the next key has been published for less than the JWKS "
                   "cache lifetime (caches may then reject new tokens for a while).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rotate(dry_run: bool, force: bool, as_json: bool) -> None:
    """next -> current, current -> retired, and a fresh next key."""
    result = _run(lambda: _store().rotate(force=force, dry_run=dry_run))
    if not dry_run:
        audit_admin("keys_rotated", kid=result.current, retired_kid=result.retired,
                    next_kid=result.next, forced=result.forced)
    if as_json:
        echo_json(result.to_dict())
        return
    prefix = "would rotate" if dry_run else "rotated"
    click.echo(f"{prefix}: {result.retired} current -> retired")
    click.echo(f"{prefix}: {result.current} next -> current (signs from now on)")
    click.echo(f"{prefix}: {result.next} new next key")


@keys.command("prune")
@click.option("--dry-run", is_flag=True, help="Say what would be pruned; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def prune(dry_run: bool, as_json: bool) -> None:
    """Delete retired keys once every token they signed has expired."""
    result = _run(lambda: _store().prune(dry_run=dry_run))
    if result.pruned and not dry_run:
        audit_admin("keys_pruned", kids=result.pruned)
    if as_json:
        echo_json(result.to_dict())
        return
    if not result.pruned:
        click.echo("nothing to prune")
    for kid in result.pruned:
        click.echo(f"{'would prune' if dry_run else 'pruned'}: {kid}")


# A kid is base64url (RFC 7638) and may begin with "-": read such a word as the kid.
@keys.command("withdraw", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def withdraw(kid: str, as_json: bool) -> None:
    """Remove a compromised key now: every token it signed is refused from then on.

    The current key must be rotated away first (`keys rotate --force`); a withdrawn next key
    is replaced by a fresh one."""
    result = _run(lambda: _store().withdraw(kid))
    audit_admin("key_withdrawn", kid=result.withdrawn, state=result.state,
                new_next=result.new_next)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"withdrew {result.state} key {result.withdrawn}: tokens it signed are refused")
    if result.new_next:
        click.echo(f"new next key: {result.new_next}")
