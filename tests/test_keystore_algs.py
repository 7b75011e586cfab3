"""The key store with several signing algorithms (AUTHSERVER_SIGNING_ALGS), on both backends:
one lifecycle per algorithm, a newly configured algorithm's first key signing at once,
`keys rotate --alg`, `keys list` with alg, `keys migrate` and `rekey` for every key type, and
nothing half-written when a key cannot be made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ed25519

from authserver.cli import main
from authserver.config import Settings
from authserver.keystore import CURRENT, NEXT, RETIRED, SIGNING_ALGS, KeyStore, KeyStoreError

from . import keystore_support
from .keystore_support import PASSPHRASE, Clock, Place

# The key-store tests' fixtures: a store on each backend, and a clock to move.
place, clock = keystore_support.place, keystore_support.clock

BOTH = pytest.mark.parametrize("place", ["files", "sqlite"], indirect=True)


def states(store: KeyStore) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for key in store.list_keys():
        found.setdefault((key.alg, key.state), []).append(key.kid)
    return found


@BOTH
def test_each_algorithm_has_its_own_lifecycle(place: Place, clock: Clock) -> None:
    store = place.open(algs=("ES256", "RS256"), clock=clock, check_interval=0)
    store.ensure()
    before = states(store)
    assert {alg for alg, _ in before} == {"ES256", "RS256"}
    assert all(len(kids) == 1 for kids in before.values())
    assert {k["alg"] for k in store.jwks()["keys"]} == {"ES256", "RS256"}
    assert store.signing_keyset().keys[0].kid == before["ES256", CURRENT][0]  # the first: default

    clock.now += 3600
    [rotated] = store.rotate(alg="RS256")
    after = states(store)
    assert rotated.alg == "RS256" and rotated.retired == before["RS256", CURRENT][0]
    assert after["RS256", CURRENT] == before["RS256", NEXT]
    assert after["RS256", RETIRED] == before["RS256", CURRENT]
    assert after["ES256", CURRENT] == before["ES256", CURRENT]  # the other is untouched
    assert store.signing_key("RS256").kid == after["RS256", CURRENT][0]

    clock.now += 3600
    both = store.rotate()
    assert [r.alg for r in both] == ["RS256", "ES256"]
    assert states(store)["ES256", CURRENT] == before["ES256", NEXT]


@BOTH
def test_a_newly_configured_algorithm_signs_at_once(place: Place, clock: Clock) -> None:
    place.open(clock=clock).ensure()
    grown = place.open(algs=("RS256", "EdDSA", "PS256"), clock=clock, check_interval=0)
    grown.ensure()
    found = states(grown)
    assert len(found["EdDSA", CURRENT]) == 1 and len(found["PS256", NEXT]) == 1
    assert grown.signing_key("EdDSA").kid == found["EdDSA", CURRENT][0]
    assert len(found["RS256", CURRENT]) == 1  # what was there is kept
    with pytest.raises(KeyStoreError, match="ES256 is not in AUTHSERVER_SIGNING_ALGS"):
        grown.rotate(alg="ES256")


@BOTH
def test_nothing_is_written_when_a_key_cannot_be_made(
    place: Place, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    place.open(clock=clock).ensure()
    before = place.raw()

    def broken() -> None:
        raise OSError("no entropy today")

    # cryptography's Ed25519 generation fails after the P-256 key was made.
    monkeypatch.setattr(ed25519.Ed25519PrivateKey, "generate", staticmethod(broken))
    with pytest.raises(OSError):
        place.open(algs=("RS256", "ES256", "EdDSA"), clock=clock).ensure()
    after = place.raw()
    if place.in_database:
        assert after == before
    else:  # an orphan key file at most; the manifest is the store
        assert after[1] == before[1]
    assert {k.alg for k in place.open(clock=clock).list_keys()} == {"RS256"}


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'keys.db'}")
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("AUTHSERVER_KEYS_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("AUTHSERVER_SIGNING_ALGS", " ".join(SIGNING_ALGS))
    monkeypatch.setenv("AUTHSERVER_AUDIT_LOG", str(tmp_path / "audit.log"))
    return CliRunner()


def cli(runner: CliRunner, *args: str, stdin: str | None = None) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(main, [*args, "--json"], input=stdin)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_the_cli_rotates_lists_migrates_and_rekeys_every_key_type(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyStore(tmp_path / "keys", passphrase=PASSPHRASE).ensure()  # RS256 keys, as ever before
    # rotate rotates RS256 and makes the first keys of the newly configured algorithms.
    first = cli(runner, "keys", "rotate", "--force")["rotations"]
    assert [r["alg"] for r in first] == list(SIGNING_ALGS)
    assert [r["retired"] is None for r in first] == [False, True, True, True]
    one = cli(runner, "keys", "rotate", "--alg", "EdDSA", "--force")
    assert [r["alg"] for r in one["rotations"]] == ["EdDSA"] and one["alg"] == "EdDSA"
    listed = cli(runner, "keys", "list")["keys"]
    assert sorted({k["alg"] for k in listed}) == sorted(SIGNING_ALGS) and len(listed) == 10
    bad = runner.invoke(main, ["keys", "rotate", "--alg", "HS256"])
    assert bad.exit_code == 2 and "HS256" in bad.output

    copied = cli(runner, "keys", "migrate", "--to", "database")["keys"]
    assert [k["kid"] for k in copied] == [k["kid"] for k in listed]
    monkeypatch.setenv("AUTHSERVER_KEY_STORE", "database")
    assert cli(runner, "keys", "list")["keys"] == listed
    assert cli(runner, "keys", "rekey", "--new-passphrase-stdin",
               stdin="another passphrase\n")["rekeyed"] == 10
    monkeypatch.setenv("AUTHSERVER_KEYS_PASSPHRASE", "another passphrase")
    reopened = KeyStore.from_settings(Settings.from_env())
    assert {reopened.signing_key(alg).kid for alg in SIGNING_ALGS} == {
        k["kid"] for k in listed if k["state"] == CURRENT}
    reopened.close()
