"""Signing keys: list, rotate and rekey (`authserver keys list|rotate|rekey`,
`/admin/v1/keys`)."""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

from ..keystore import KeyInfo, KeyStore, KeyStoreError, transfer
from ..policy import SIGNING_ALGS
from ..store.idps import reseal_client_secrets
from ..store.second_factors import reseal_totp_secrets
from .errors import BadInput, Conflict, NotFound
from .pages import Page, check_limit


def _position(key: KeyInfo) -> tuple[float, str]:
    """A key's place in the list: made earlier first (a new key comes last), then by kid."""
    return key.created_at, key.kid


def _encode(position: tuple[float, str]) -> str:
    return base64.urlsafe_b64encode(f"{position[0]!r} {position[1]}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[float, str]:
    """The keys live in the key store (files or their own table), not in a table with an
    integer key, so their cursor is their own: the last key's (created_at, kid)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        created, kid = text.split(" ", 1)
        position = float(created), kid
        if not math.isfinite(position[0]) or not kid:
            raise ValueError
        return position
    except (ValueError, binascii.Error, UnicodeError):
        raise BadInput("cursor is not one this server gave", field="cursor") from None


def list_keys(keystore: KeyStore, *, limit: int | None = None,
              cursor: str | None = None) -> Page:
    """The keys in pages, as every list of the administration API (a key made while a caller
    walks the list comes after the others, so the walk sees each key once)."""
    limit = check_limit(limit)
    keys = sorted(keystore.list_keys(), key=_position)
    if cursor is not None:
        after = _decode(cursor)
        keys = [key for key in keys if _position(key) > after]
    more = len(keys) > limit
    keys = keys[:limit]
    return Page([key.to_dict() for key in keys], _encode(_position(keys[-1])) if more else None)


def show_key(keystore: KeyStore, kid: str) -> dict[str, Any]:
    for key in keystore.list_keys():
        if key.kid == kid:
            return key.to_dict()
    raise NotFound(f"no signing key with the kid {kid!r}", field="kid")


def rotate_keys(keystore: KeyStore, *, force: bool = False, dry_run: bool = False,
                alg: str | None = None) -> list[dict[str, Any]]:
    """next -> current, current -> retired, a fresh next, for every configured algorithm (or
    `alg`'s); all or nothing."""
    if alg is not None and alg not in keystore.algs:
        raise BadInput(f"alg {alg} is not in AUTHSERVER_SIGNING_ALGS ({' '.join(keystore.algs)})"
                       if alg in SIGNING_ALGS else f"alg {alg!r} is not a signing algorithm",
                       field="alg")
    try:
        return [result.to_dict() for result in keystore.rotate(force=force, dry_run=dry_run,
                                                               alg=alg)]
    except KeyStoreError as exc:
        raise Conflict(str(exc)) from None


def rekey(keystore: KeyStore, new_passphrase: str) -> dict[str, int]:
    """Every key, authenticator app secret and provider client secret sealed with the new
    passphrase, in one transaction: all or nothing (they are all sealed with
    AUTHSERVER_KEYS_PASSPHRASE, so a rekey of the keys alone would lock the rest out).
    Counts: keys, totp_secrets, idp_client_secrets."""
    return transfer.rekey(keystore, new_passphrase,
                          {"totp_secrets": reseal_totp_secrets,
                           "idp_client_secrets": reseal_client_secrets})
