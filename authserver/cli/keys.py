"""`authserver keys ...`: list, rotate, prune and withdraw the signing keys (rotation has the
same logic as scripts/rotate_keys.py)."""

from __future__ import annotations

import click

from ..db import migrate
from ..keystore import SIGNING_ALGS, KeyInfo, KeyStore, KeyStoreError
from ..keystore.files import FileBackend
from ..keystore.transfer import copy_store
from ..operations import keys as operations
from ..operations.errors import Conflict, OperationError
from ._common import audit_admin, echo_json, echo_table, load_settings, read_password_stdin
from .errors import BadInput, Group
from .verbatim import VerbatimArguments

BACKENDS = ("files", "database")


def _store(key_store: str | None = None) -> KeyStore:
    """The key store AUTHSERVER_KEY_STORE names (or `key_store`); the database's is in its
    schema, migrated first like every command that uses the database."""
    settings = load_settings()
    if (key_store or settings.key_store) == "database":
        if not settings.keys_passphrase:
            raise click.UsageError("the database key store needs AUTHSERVER_KEYS_PASSPHRASE")
        migrate(settings)
    return KeyStore.from_settings(settings, key_store=key_store)


def _run(action):  # type: ignore[no-untyped-def]
    try:
        return action()
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=Group)
def keys() -> None:
    """Manage the rotating signing keys (in AUTHSERVER_KEYS_DIR, or the database when
    AUTHSERVER_KEY_STORE=database)."""


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_keys(as_json: bool) -> None:
    """Show every key: kid, algorithm, state, created, retires-at."""
    found: list[KeyInfo] = _run(_store().list_keys)
    if as_json:
        echo_json({"keys": [k.to_dict() for k in found]})
        return
    rows: list[tuple[str, ...]] = [
        (key.kid, key.alg, key.state, str(info["created_at"]), str(info["retires_at"] or "-"))
        for key in found for info in [key.to_dict()]]
    echo_table(("kid", "alg", "state", "created", "retires at"), rows)


@keys.command("rotate")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option("--force", is_flag=True,
              help="Rotate even if the next key has been published for less than the JWKS "
                   "cache lifetime (caches may then reject new tokens for a while).")
@click.option("--alg", type=click.Choice(SIGNING_ALGS), default=None,
              help="Rotate only this algorithm's keys (default: every configured algorithm).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rotate(dry_run: bool, force: bool, alg: str | None, as_json: bool) -> None:
    """next -> current, current -> retired, and a fresh next key, for every configured
    algorithm (or --alg's); a newly configured algorithm gets its first keys."""
    try:
        results = operations.rotate_keys(_store(), force=force, dry_run=dry_run, alg=alg)
    except Conflict as exc:  # too soon after the last rotation: the state refuses it now
        raise click.ClickException(exc.message) from None
    except OperationError as exc:
        raise click.UsageError(exc.message) from None
    if not dry_run:
        for result in results:
            audit_admin("keys_rotated", alg=result["alg"], kid=result["current"],
                        retired_kid=result["retired"], next_kid=result["next"],
                        forced=result["forced"])
    if as_json:
        # The first result's fields at the top (what one algorithm always printed), and all.
        echo_json({**results[0], "rotations": results})
        return
    prefix = "would rotate" if dry_run else "rotated"
    for result in results:
        alg_, current, nxt = result["alg"], result["current"], result["next"]
        if result["retired"] is None:
            click.echo(f"{'would create' if dry_run else 'created'}: the first {alg_} "
                       f"keys {current or ''} (signs from now on) {nxt or ''}")
            continue
        click.echo(f"{prefix} {alg_}: {result['retired']} current -> retired")
        click.echo(f"{prefix} {alg_}: {current} next -> current (signs from now on)")
        # A dry run makes no key, so it has no kid to print for the fresh next key.
        click.echo(f"{prefix} {alg_}: {nxt or '(a new key)'} new next key")


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
@keys.command("withdraw", cls=VerbatimArguments)
@click.argument("kid")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def withdraw(kid: str, as_json: bool) -> None:
    """Remove a compromised key now: every token it signed is refused from then on.

    The current key must be rotated away first (`keys rotate --force`); a withdrawn next key
    is replaced by a fresh one."""
    store = _store()
    if kid not in {key.kid for key in _run(store.list_keys)}:
        raise BadInput(f"no key {kid!r} in {store.where}")
    result = _run(lambda: store.withdraw(kid))
    audit_admin("key_withdrawn", kid=result.withdrawn, state=result.state,
                new_next=result.new_next)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"withdrew {result.state} key {result.withdrawn}: tokens it signed are refused")
    if result.new_next:
        click.echo(f"new next key: {result.new_next}")


@keys.command("migrate")
@click.option("--to", "target", type=click.Choice(BACKENDS), required=True,
              help="The backend to copy the keys into (AUTHSERVER_KEY_STORE names the source).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def migrate_keys(target: str, as_json: bool) -> None:
    """Copy every key (kids, states, dates) into the other backend, once: refused, with
    nothing written, if it already holds keys. Then set AUTHSERVER_KEY_STORE to it."""
    source_name = load_settings().key_store
    if target == source_name:
        raise click.UsageError(f"the keys are in {target} already (AUTHSERVER_KEY_STORE)")
    source = _store()
    if isinstance(source.backend, FileBackend):
        source.backend.accept_unencrypted = True  # "reads the source as it is" (INTERFACE.md)
    copied = _run(lambda: copy_store(source, _store(target)))
    audit_admin("keys_migrated", source=source_name, target=target,
                kids=[k.kid for k in copied])
    if as_json:
        echo_json({"source": source_name, "target": target,
                   "keys": [k.to_dict() for k in copied]})
        return
    for key in copied:
        click.echo(f"copied {key.state:8} {key.kid}")
    click.echo(f"now set AUTHSERVER_KEY_STORE={target}")


@keys.command("rekey")
@click.option("--new-passphrase-stdin", "from_stdin", is_flag=True, required=True,
              help="Read the new passphrase from one line of stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rekey(from_stdin: bool, as_json: bool) -> None:
    """Seal every key, authenticator app secret and identity provider client secret with a
    new passphrase, in one transaction (database store). Restart the servers with the new
    AUTHSERVER_KEYS_PASSPHRASE afterwards."""
    new_passphrase = read_password_stdin("new passphrase")
    counts = _run(lambda: operations.rekey(_store(), new_passphrase))
    totp, idps = counts["totp_secrets"], counts["idp_client_secrets"]
    # The audit log drops fields named *secret*: the counts go by other names there.
    audit_admin("keys_rekeyed", keys=counts["keys"], totp_apps=totp, idps=idps)
    if as_json:
        echo_json({"rekeyed": counts["keys"], "totp_secrets": totp, "idp_client_secrets": idps})
        return
    click.echo(f"sealed {counts['keys']} keys, {totp} authenticator app secrets and {idps} "
               "identity provider client secrets with the new passphrase; set "
               "AUTHSERVER_KEYS_PASSPHRASE to it and restart the servers")
