"""The file key store parses a key file once per process (keystore/files.py: an RSA key's
check costs about 35 ms): the same bytes under the same passphrase are not parsed again, and
anything else (another passphrase, changed bytes, a key under another kid) is read and
checked as ever."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from authserver.keystore import KeyStore, KeyStoreError
from authserver.keystore import files as file_backend


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The key files' bytes that were really parsed."""
    seen: list[bytes] = []
    real = serialization.load_pem_private_key

    def counting(data: bytes, password: bytes | None, **kwargs: object) -> object:
        seen.append(data)
        return real(data, password=password)

    monkeypatch.setattr(file_backend.serialization, "load_pem_private_key", counting)
    return seen


def test_a_reload_after_a_rotation_parses_only_the_new_key(tmp_path: Path,
                                                           parses: list[bytes]) -> None:
    store = KeyStore(tmp_path / "keys", passphrase="a passphrase of ours")
    store.ensure()
    before = {k.kid for k in store.list_keys()}
    parsed_at_start = len(parses)
    store.rotate(force=True)
    store.load()
    added = {k.kid for k in store.list_keys()} - before
    assert len(added) == 1
    assert parses[parsed_at_start:] == [(tmp_path / "keys" / f"{added.pop()}.pem").read_bytes()]


def test_another_passphrase_is_not_answered_from_what_was_parsed(tmp_path: Path,
                                                                 parses: list[bytes]) -> None:
    KeyStore(tmp_path / "keys", passphrase="the right one").ensure()
    with pytest.raises(KeyStoreError, match="wrong AUTHSERVER_KEYS_PASSPHRASE"):
        KeyStore(tmp_path / "keys", passphrase="another one").load()


def test_a_file_changed_after_it_was_parsed_is_read_again(tmp_path: Path,
                                                          parses: list[bytes]) -> None:
    store = KeyStore(tmp_path / "keys")
    store.ensure()
    key_file = tmp_path / "keys" / f"{store.signing_key().kid}.pem"
    key_file.write_bytes(key_file.read_bytes().replace(b"\n", b"\n\n", 3))  # not PEM now
    with pytest.raises(KeyStoreError, match="cannot load"):
        KeyStore(tmp_path / "keys").load()
