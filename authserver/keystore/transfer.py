"""Moving every key at once: into another store (keys migrate), or under a new passphrase
(keys rekey). Each is one write of the store it changes, under its lock: all or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from . import KeyStore
from .database import DatabaseBackend, Resealer
from .lifecycle import KeyInfo, KeyStoreError


def copy_store(source: KeyStore, target: KeyStore) -> list[KeyInfo]:
    """Copy every key (kids, states, times) of `source` into an empty `target`, in one write
    of the target; refused if the target holds keys already."""
    keys, private, _ = source.read_keys()
    target.backend.prepare()
    with target.backend.locked():
        if target.backend.exists():
            raise KeyStoreError(f"{target.where} already holds keys: nothing was copied")
        for key in keys:
            target.backend.write_sealed(key.kid, private[key.kid])
        target.backend.write_manifest([replace(k, retires_at=None) for k in keys])
    target.load()
    return keys


def rekey(store: KeyStore, new_passphrase: str,
          others: Mapping[str, Resealer] | None = None) -> dict[str, int]:
    """Seal every key (and the secrets `others` reseal) with a new passphrase, in one
    transaction (the database store); how many of each ("keys", then others' names)."""
    if not isinstance(store.backend, DatabaseBackend):
        raise KeyStoreError(
            "keys rekey is for AUTHSERVER_KEY_STORE=database; the files in keys/ are "
            "PKCS#8 (re-encrypt each with `openssl pkcs8`, see keys/README.md)")
    if not new_passphrase:
        raise KeyStoreError("the new passphrase is empty")
    with store.backend.locked():
        store.list_keys()  # opens every key with the old passphrase first, or refuses
        return store.backend.reseal_all(new_passphrase.encode(), others)
