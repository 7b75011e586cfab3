# ruff: noqa: F811  (the fixtures imported from keystore_support are parameters here)
"""The rotating key store on both backends (files in keys/, and the database on SQLite and
PostgreSQL): lifecycle, pre-publication, pruning, withdrawal, reloads, broken stores. Checks
that only make sense for one backend (file modes, a missing key file) say so. Crashes, the
lock between processes, the CLI and the script: tests/test_keystore_processes.py."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import jwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey

from authserver.keystore import CURRENT, NEXT, RETIRED, KeyStore, KeyStoreError, RotationRefused

from .keystore_support import Clock, Place, clock, files_store, place, states, store  # noqa: F401

# -- creation ---------------------------------------------------------------------------------

def test_first_start_creates_current_and_next(store: KeyStore) -> None:
    assert sorted(states(store).values()) == [CURRENT, NEXT]


def test_files_are_private_to_the_server(files_store: KeyStore) -> None:
    """files backend: keys/ 0700, each key and the manifest 0600."""
    directory = files_store.directory
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for kid in states(files_store):
        pem = directory / f"{kid}.pem"
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert b"PRIVATE KEY" in pem.read_bytes()
    assert stat.S_IMODE((directory / "manifest.json").stat().st_mode) == 0o600


def test_an_existing_open_directory_is_closed_to_others(tmp_path: Path) -> None:
    """files backend: a checkout's keys/ (0755, holding a README) is closed on first use."""
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o755)
    (directory / "README.md").write_text("like a fresh checkout")
    KeyStore(directory).ensure()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_kid_is_the_rfc7638_thumbprint(store: KeyStore) -> None:
    key = store.signing_key()
    assert key.kid == RSAKey.import_key(key.as_dict(private=False)).thumbprint()
    assert key.private_key.key_size >= 2048  # type: ignore[union-attr]


def test_a_stored_key_swapped_under_another_kid_is_refused(place: Place, store: KeyStore) -> None:
    """A key put in place of another (a restore gone wrong, or tampering) stops the store
    from loading: the kid is checked against the key (files), or the sealed key is bound to
    its kid (database)."""
    current, upcoming = store.signing_key().kid, next(
        k.kid for k in store.list_keys() if k.state == NEXT)
    if place.in_database:
        place.sql("UPDATE signing_keys SET encrypted_key = (SELECT encrypted_key FROM "
                  "signing_keys WHERE kid = :upcoming) WHERE kid = :current",
                  upcoming=upcoming, current=current)
        expected = "copied from another row"
    else:
        (place.directory / f"{current}.pem").write_bytes(
            (place.directory / f"{upcoming}.pem").read_bytes())
        expected = "thumbprint mismatch"
    with pytest.raises(KeyStoreError, match=expected):
        place.open().load()


def test_second_ensure_loads_the_same_keys(place: Place, store: KeyStore, clock: Clock) -> None:
    before = states(store)
    again = place.open(clock=clock)
    again.ensure()
    assert states(again) == before
    assert again.signing_key().kid == store.signing_key().kid


def test_jwks_publishes_public_parameters_only(store: KeyStore) -> None:
    jwks = store.jwks()
    assert {k["kid"] for k in jwks["keys"]} == set(states(store))
    for key in jwks["keys"]:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert json.loads(store.jwks_json()) == jwks


def test_signing_set_puts_the_current_kid_in_the_header(store: KeyStore) -> None:
    token = jose_jwt.encode({"alg": "RS256"}, {"sub": "x"}, store.signing_keyset())
    header = jwt.get_unverified_header(token)
    assert header["kid"] == store.signing_key().kid
    public = next(k for k in store.jwks()["keys"] if k["kid"] == header["kid"])
    assert jwt.decode(token, jwt.PyJWK(public).key, algorithms=["RS256"])["sub"] == "x"


# -- rotation, pruning, withdrawal ------------------------------------------------------------

def test_rotate_promotes_next_and_retires_current(store: KeyStore, clock: Clock) -> None:
    old_current = store.signing_key().kid
    old_next = next(k for k, s in states(store).items() if s == NEXT)
    clock.now += store.jwks_max_age
    [result] = store.rotate()
    after = states(store)
    assert result.retired == old_current and result.current == old_next
    assert after[old_current] == RETIRED
    assert after[old_next] == CURRENT
    assert after[result.next] == NEXT and result.next not in (old_current, old_next)
    assert store.signing_key().kid == old_next
    assert old_current in {k["kid"] for k in store.jwks()["keys"]}


def test_rotate_before_the_next_key_is_known_to_caches_is_refused(
    place: Place, store: KeyStore, clock: Clock
) -> None:
    clock.now += store.jwks_max_age - 5
    before = place.raw()
    with pytest.raises(RotationRefused, match="--force"):
        store.rotate()
    assert place.raw() == before
    assert store.rotate(force=True)[0].forced is True


def test_two_rotations_in_a_row_are_refused_without_force(store: KeyStore, clock: Clock) -> None:
    clock.now += store.jwks_max_age
    store.rotate()
    with pytest.raises(RotationRefused):
        store.rotate()


def test_dry_run_writes_nothing(place: Place, store: KeyStore, clock: Clock) -> None:
    clock.now += store.jwks_max_age
    before = place.raw()
    [result] = store.rotate(dry_run=True)
    assert result.dry_run and result.current != store.signing_key().kid
    assert result.to_dict()["next"] is None  # no fresh key exists in a dry run
    assert place.raw() == before


def test_prune_respects_the_retirement_window(place: Place, store: KeyStore, clock: Clock) -> None:
    clock.now += store.jwks_max_age
    retired = store.rotate()[0].retired
    assert retired
    clock.now += store.retire_after - 1
    assert store.prune().pruned == []
    assert retired in states(store)
    clock.now += 1
    assert store.prune().pruned == [retired]
    assert retired not in states(store)
    assert not place.holds(retired)
    assert retired not in {k["kid"] for k in store.jwks()["keys"]}


def test_withdraw_removes_a_retired_key_before_its_window_ends(
    place: Place, store: KeyStore, clock: Clock
) -> None:
    clock.now += store.jwks_max_age
    retired = store.rotate()[0].retired
    assert retired and store.prune().pruned == []  # its tokens may still be alive
    result = store.withdraw(retired)
    assert (result.withdrawn, result.state, result.new_next) == (retired, RETIRED, None)
    assert retired not in states(store)
    assert retired not in {k["kid"] for k in store.jwks()["keys"]}
    assert not place.holds(retired)


def test_withdrawing_the_next_key_puts_a_fresh_one_in_its_place(store: KeyStore) -> None:
    old_next = next(k.kid for k in store.list_keys() if k.state == NEXT)
    result = store.withdraw(old_next)
    assert result.state == NEXT and result.new_next not in (None, old_next)
    assert states(store) == {store.signing_key().kid: CURRENT, result.new_next: NEXT}
    # The fresh next key is as new as any: rotating to it waits for the JWKS caches again.
    with pytest.raises(RotationRefused):
        store.rotate()


def test_the_current_key_cannot_be_withdrawn(store: KeyStore) -> None:
    current = store.signing_key().kid
    before = states(store)
    with pytest.raises(KeyStoreError, match="rotate --force"):
        store.withdraw(current)
    with pytest.raises(KeyStoreError, match="no key"):
        store.withdraw("not-a-kid")
    assert states(store) == before


# -- following changes ------------------------------------------------------------------------

def test_another_process_view_follows_a_rotation_without_restart(
    place: Place, store: KeyStore, clock: Clock
) -> None:
    worker = place.open(check_interval=0)
    worker.load()
    before = worker.signing_key().kid
    clock.now += store.jwks_max_age
    time.sleep(0.01)  # a distinct mtime for the new manifest (files)
    [result] = store.rotate()
    assert worker.signing_key().kid == result.current != before
    assert result.next in {k["kid"] for k in worker.jwks()["keys"]}


def test_reload_is_throttled_by_check_interval(place: Place, store: KeyStore, clock: Clock) -> None:
    worker = place.open(check_interval=3600)
    worker.load()
    before = worker.signing_key().kid
    clock.now += store.jwks_max_age
    store.rotate()
    assert worker.signing_key().kid == before  # not checked yet: cached
    worker.load()
    assert worker.signing_key().kid != before


def test_reading_the_loaded_keys_does_not_touch_the_store(store: KeyStore,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """What /metrics reads on every scrape: the loaded snapshot, not every key again."""
    reads: list[int] = []
    real = store.backend.read_manifest
    monkeypatch.setattr(store.backend, "read_manifest", lambda: reads.append(1) or real())
    for _ in range(3):
        assert [k.state for k in store.published_keys()].count(CURRENT) == 1
    assert reads == []


# -- broken stores ----------------------------------------------------------------------------

def _break(place: Place) -> str:
    """Make the stored state unreadable; returns what the error names."""
    if place.in_database:
        place.sql("UPDATE signing_keys SET state = 'bogus' WHERE state = 'next'")
        return "signing_keys table: key .* has unknown state 'bogus'"
    (place.directory / "manifest.json").write_text("{not json")
    return "manifest.json is corrupt"


def test_a_broken_store_is_a_clear_error_naming_it(place: Place, store: KeyStore) -> None:
    before = place.raw()
    with pytest.raises(KeyStoreError, match=_break(place)):
        place.open().ensure()
    broken = place.raw()
    assert broken != before and place.raw() == broken  # ensure() repaired nothing by itself


def test_missing_key_file_is_a_clear_error(files_store: KeyStore) -> None:
    """files backend (in the database a key and its state are one row)."""
    kid = files_store.signing_key().kid
    (files_store.directory / f"{kid}.pem").unlink()
    with pytest.raises(KeyStoreError, match=f"{kid}.pem is missing"):
        KeyStore(files_store.directory).ensure()


def test_a_store_without_current_key_is_not_silently_recreated(place: Place, store: KeyStore) -> None:
    if place.in_database:
        place.sql("UPDATE signing_keys SET state = 'retired', retired_at = created_at "
                  "WHERE state = 'current'")
    else:
        path = place.directory / "manifest.json"
        data = json.loads(path.read_text())
        data["keys"] = [k for k in data["keys"] if k["state"] != CURRENT]
        path.write_text(json.dumps(data))
    with pytest.raises(KeyStoreError, match="exactly one current"):
        place.open().ensure()


def test_a_running_store_keeps_its_keys_when_the_store_breaks(place: Place, store: KeyStore) -> None:
    kid = store.signing_key().kid
    _break(place)
    assert store.signing_key().kid == kid


def test_passphrase_encrypts_keys_at_rest(tmp_path: Path) -> None:
    """files backend: PKCS#8 encryption (the database backend always seals: its own tests)."""
    encrypted = KeyStore(tmp_path / "keys", passphrase="open sesame")
    encrypted.ensure()
    kid = encrypted.signing_key().kid
    assert b"ENCRYPTED" in (tmp_path / "keys" / f"{kid}.pem").read_bytes()
    again = KeyStore(tmp_path / "keys", passphrase="open sesame")
    again.load()
    assert again.signing_key().kid == kid
    with pytest.raises(KeyStoreError, match="PASSPHRASE"):
        KeyStore(tmp_path / "keys", passphrase="wrong").load()
    with pytest.raises(KeyStoreError, match="PASSPHRASE"):
        KeyStore(tmp_path / "keys").load()


def test_small_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="2048"):
        KeyStore(tmp_path / "keys", key_size=1024)
