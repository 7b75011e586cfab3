"""The key store in the database (AUTHSERVER_KEY_STORE=database): sealed keys, wrong
passphrases, `keys migrate` and `keys rekey`, and two `authserver serve` instances on one
PostgreSQL with nothing but the database in common, behind nginx."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, inspect, select, text

from authserver.keystore import CURRENT, NEXT, KeyStore, KeyStoreError, sealing, transfer

from .conftest import POSTGRES_URL, _database_url, migrate_from_template
from .keystore_support import PASSPHRASE, Clock, Place
from .nginx_front import nginx_in_front, require_nginx
from .support import cli_in_process, eventually, free_port, postgres_schema, start_server

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    for url in _database_url(request, tmp_path, request.param):
        migrate_from_template(request, url)
        created = Place(request.param, tmp_path / "keys", url, tmp=tmp_path)
        yield created
        for engine in created.engines:
            engine.dispose()


@pytest.fixture
def store(place: Place) -> KeyStore:
    created = place.open(clock=Clock(), check_interval=0)
    created.ensure()
    return created


def _cells(place: Place) -> Iterator[tuple[str, str, Any]]:
    """Every value of every column of every table, the tables in name order (PostgreSQL lists
    them in its catalog's order, which changes as the catalog's rows are rewritten)."""
    assert place.database_url is not None
    engine = create_engine(place.database_url)
    try:
        tables = sorted(inspect(engine).get_table_names())
        with engine.connect() as conn:
            for table in tables:
                for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                    for column, value in row.items():
                        yield table, column, value
    finally:
        engine.dispose()


def _forms(number: int) -> list[bytes]:
    """A private number as a leak would show it: raw, hex, decimal, base64 and base64url."""
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return [raw, raw.hex().encode(), str(number).encode(), base64.b64encode(raw)[:40],
            base64.urlsafe_b64encode(raw).rstrip(b"=")[:40]]


def test_no_private_key_material_is_stored_in_clear(place: Place, store: KeyStore) -> None:
    store.rotate(force=True)
    keys = store.list_keys()
    needles = [b"PRIVATE KEY", PASSPHRASE.encode()]
    for key in keys:
        numbers = store.backend.load_private(key).private_key.private_numbers()  # type: ignore[union-attr]
        der = store.backend.load_private(key).private_key.private_bytes(  # type: ignore[union-attr]
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        needles += [der[:64], base64.b64encode(der)[:64]]
        for secret in (numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp):
            needles += _forms(secret)
    scanned = 0
    for table, column, value in _cells(place):
        if value is None:
            continue
        cell = value if isinstance(value, bytes) else str(value).encode()
        scanned += 1
        for needle in needles:
            assert needle not in cell, f"{table}.{column} holds private key material"
    assert scanned > 0
    sealed = [v for t, c, v in _cells(place) if (t, c) == ("signing_keys", "encrypted_key")]
    assert len(sealed) == len(keys) and all(v.startswith(sealing.FORMAT + "$") for v in sealed)


def test_keys_are_sealed_at_full_cost_outside_the_test_suite(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite seals with a cheap scrypt (AUTHSERVER_TEST_FAST_HASHING, conftest.py); without
    it a key is sealed at n=2^15, r=8, and either kind opens (the parameters are recorded)."""
    cheap = sealing.seal(b"secret", b"pass", "kid")
    monkeypatch.delenv("AUTHSERVER_TEST_FAST_HASHING")
    full = sealing.seal(b"secret", b"pass", "kid")
    assert full.split("$")[1:4] == ["32768", "8", "1"]
    assert cheap.split("$")[1:4] == ["1024", "8", "1"]
    assert sealing.unseal(full, b"pass", "kid") == sealing.unseal(cheap, b"pass", "kid") == b"secret"


def test_start_with_a_wrong_passphrase_stops_before_serving(place: Place, store: KeyStore,
                                                            tmp_path: Path) -> None:
    assert place.database_url is not None
    env = {**place.env(), "AUTHSERVER_KEYS_PASSPHRASE": "not the passphrase"}
    result = cli_in_process(["keys", "list"], env=env)
    assert result.returncode == 1 and "wrong AUTHSERVER_KEYS_PASSPHRASE" in result.stderr
    before = place.raw()
    with pytest.raises(AssertionError, match="wrong AUTHSERVER_KEYS_PASSPHRASE"):
        start_server(tmp_path, database_url=place.database_url, keys_dir=tmp_path / "keys",
                     extra_env={"AUTHSERVER_KEY_STORE": "database",
                                "AUTHSERVER_KEYS_PASSPHRASE": "not the passphrase"})
    assert place.raw() == before  # no other keys were made to sign with


def test_the_database_store_needs_a_passphrase(place: Place) -> None:
    env = {k: v for k, v in place.env().items() if k != "AUTHSERVER_KEYS_PASSPHRASE"}
    result = cli_in_process(["keys", "list"], env=env)
    assert result.returncode == 2 and "AUTHSERVER_KEYS_PASSPHRASE" in result.stderr


def test_a_failure_inside_a_write_rolls_it_all_back(
    place: Place, store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = place.raw()
    real = store.backend.write_manifest

    def write_then_fail(keys: Any) -> None:
        real(keys)  # every row deleted, inserted and updated, the version moved ...
        raise ConnectionError("connection lost")  # ... and then the connection goes

    monkeypatch.setattr(store.backend, "write_manifest", write_then_fail)
    with pytest.raises(ConnectionError):
        store.rotate(force=True)
    assert place.raw() == before


def test_migrate_from_files_and_back_keeps_kids_states_and_dates(place: Place,
                                                                  tmp_path: Path) -> None:
    files = KeyStore(tmp_path / "keys")  # unencrypted files, as a first deployment has
    files.ensure()
    files.rotate(force=True)
    from_files = {**place.env(), "AUTHSERVER_KEY_STORE": "files"}
    moved = cli_in_process(["keys", "migrate", "--to", "database", "--json"], env=from_files)
    assert moved.returncode == 0, moved.stderr
    listed = cli_in_process(["keys", "list", "--json"], env=place.env())
    original = [k.to_dict() for k in files.list_keys()]
    assert json.loads(listed.stdout)["keys"] == original
    assert json.loads(moved.stdout)["keys"] == original
    again = cli_in_process(["keys", "migrate", "--to", "database"], env=from_files)
    assert again.returncode == 1 and "already holds keys" in again.stderr

    back_dir = tmp_path / "keys-back"
    back = cli_in_process(["keys", "migrate", "--to", "files"],
                          env={**place.env(), "AUTHSERVER_KEYS_DIR": str(back_dir)})
    assert back.returncode == 0, back.stderr
    restored = KeyStore(back_dir, passphrase=PASSPHRASE)  # written encrypted
    restored.load()
    assert [k.to_dict() for k in restored.list_keys()] == original
    assert restored.signing_key().kid == files.signing_key().kid
    assert all(b"ENCRYPTED" in p.read_bytes() for p in back_dir.glob("*.pem"))


def test_rekey_seals_every_key_with_the_new_passphrase(place: Place, store: KeyStore) -> None:
    before = {k.kid: k.state for k in store.list_keys()}
    done = cli_in_process(["keys", "rekey", "--new-passphrase-stdin", "--json"],
                          env=place.env(), stdin="the new passphrase\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"rekeyed": 2, "totp_secrets": 0, "idp_client_secrets": 0}
    old = cli_in_process(["keys", "list"], env=place.env())
    assert old.returncode == 1 and "wrong AUTHSERVER_KEYS_PASSPHRASE" in old.stderr
    fresh = place.open(passphrase="the new passphrase")
    fresh.load()
    assert {k.kid: k.state for k in fresh.list_keys()} == before


def test_a_rekey_that_fails_half_way_changes_nothing(
    place: Place, store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = place.raw()
    sealed: list[str] = []
    real = sealing.seal

    def seal_once_then_fail(secret: bytes, passphrase: bytes, kid: str) -> str:
        if sealed:
            raise ConnectionError("connection lost")
        sealed.append(kid)
        return real(secret, passphrase, kid)

    monkeypatch.setattr("authserver.keystore.database.seal", seal_once_then_fail)
    with pytest.raises(ConnectionError):
        transfer.rekey(store, "the new passphrase")
    assert sealed and place.raw() == before
    place.open().load()  # the old passphrase still opens every key


def test_rekey_is_refused_on_the_files_store(tmp_path: Path) -> None:
    files = KeyStore(tmp_path / "keys")
    files.ensure()
    with pytest.raises(KeyStoreError, match="AUTHSERVER_KEY_STORE=database"):
        transfer.rekey(files, "anything")


# -- two hosts, one database, no shared disk --------------------------------------------------

@pytest.fixture
def hosts(tmp_path: Path, postgres_ready: bool) -> Iterator[tuple[str, Any, Any, Path, Path]]:
    require_nginx()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {"AUTHSERVER_KEY_STORE": "database", "AUTHSERVER_KEYS_PASSPHRASE": PASSPHRASE}
    dir_a, dir_b = tmp_path / "host-a-keys", tmp_path / "host-b-keys"
    with postgres_schema(POSTGRES_URL) as url:
        a = start_server(tmp_path, database_url=url, keys_dir=dir_a, issuer=issuer,
                         extra_env=env)
        b = start_server(tmp_path, database_url=url, keys_dir=dir_b, issuer=issuer,
                         extra_env=env)
        try:
            with nginx_in_front(tmp_path, [a.base_url, b.base_url], port=port):
                yield issuer, a, b, dir_a, dir_b
        finally:
            a.stop()
            b.stop()


def test_two_hosts_share_keys_through_the_database_alone(
    hosts: tuple[str, Any, Any, Path, Path],
) -> None:
    issuer, a, b, dir_a, dir_b = hosts
    assert a.http.get("/.well-known/jwks.json").json() == b.http.get("/.well-known/jwks.json").json()
    app = a.cli_json("client", "create", "--name", "hosts", "--grant-type", "client_credentials",
                     "--scope", "profile")
    auth = (app["client_id"], app["client_secret"])

    def token(instance: Any) -> str:
        answer = instance.http.post("/oauth/token", auth=auth, data={
            "grant_type": "client_credentials", "scope": "profile"})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    from_a, from_b = token(a), token(b)
    for instance, other in ((b, from_a), (a, from_b)):
        me = instance.http.get("/api/me", headers={"Authorization": f"Bearer {other}"})
        assert me.status_code == 200, me.text

    rotation = a.cli_json("keys", "rotate", "--force")

    def signing_kids() -> set[str]:
        # Several tokens from each host: every worker of both has to have followed.
        return {jwt.get_unverified_header(token(instance))["kid"]
                for instance in (a, b) for _ in range(4)}

    assert eventually(signing_kids, lambda kids: kids == {rotation["current"]}, within=15)
    with httpx.Client(base_url=issuer, timeout=10) as lb:
        published = {k["kid"] for k in lb.get("/.well-known/jwks.json").json()["keys"]}
        assert {rotation["current"], rotation["next"], rotation["retired"]} <= published
        old = lb.get("/api/me", headers={"Authorization": f"Bearer {from_a}"})
        assert old.status_code == 200  # signed by the retired key, still published
    for directory in (dir_a, dir_b):
        assert not directory.exists() or os.listdir(directory) == []
    for instance in (a, b):
        assert "Traceback" not in instance.log()
    stored = create_engine(a.env["AUTHSERVER_DATABASE_URL"])
    with stored.connect() as conn:
        states = [row[0] for row in conn.execute(select(text("state")).select_from(
            text("signing_keys")))]
    stored.dispose()
    assert states.count(CURRENT) == 1 and states.count(NEXT) == 1
