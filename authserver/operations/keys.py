"""Signing keys: list and rotate (`authserver keys list|rotate`, `/admin/v1/keys`)."""

from __future__ import annotations

from typing import Any

from ..keystore import KeyStore, KeyStoreError
from ..policy import SIGNING_ALGS
from .errors import BadInput, Conflict
from .pages import Page


def list_keys(keystore: KeyStore) -> Page:
    """Every key (a handful: one page)."""
    return Page([key.to_dict() for key in keystore.list_keys()], None)


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
