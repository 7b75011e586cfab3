"""The rotating key store: lifecycle, files, pre-publication, pruning, reloads, crash safety."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey

from authserver.cli import main
from authserver.keystore import CURRENT, NEXT, RETIRED, KeyStore, KeyStoreError, RotationRefused

REPO = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> KeyStore:
    created = KeyStore(tmp_path / "keys", clock=clock, check_interval=0)
    created.ensure()
    return created


def states(store: KeyStore) -> dict[str, str]:
    return {k.kid: k.state for k in store.list_keys()}


def test_first_start_creates_current_and_next_with_safe_modes(store: KeyStore) -> None:
    directory = store.directory
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert sorted(states(store).values()) == [CURRENT, NEXT]
    for kid in states(store):
        pem = directory / f"{kid}.pem"
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert b"PRIVATE KEY" in pem.read_bytes()
    assert stat.S_IMODE((directory / "manifest.json").stat().st_mode) == 0o600


def test_an_existing_open_directory_is_closed_to_others(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o755)
    (directory / "README.md").write_text("like a fresh checkout")
    KeyStore(directory).ensure()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_kid_is_the_rfc7638_thumbprint(store: KeyStore) -> None:
    key = store.signing_key()
    assert key.kid == RSAKey.import_key(key.as_dict(private=False)).thumbprint()
    assert key.private_key.key_size >= 2048  # type: ignore[union-attr]


def test_a_key_file_that_holds_another_key_is_refused(store: KeyStore) -> None:
    """The kid is checked against the key it names: a PEM swapped in under another key's kid
    (a restore gone wrong, or tampering) stops the store from loading."""
    current, upcoming = store.signing_key().kid, next(
        k.kid for k in store.list_keys() if k.state == NEXT)
    (store.directory / f"{current}.pem").write_bytes(
        (store.directory / f"{upcoming}.pem").read_bytes())
    with pytest.raises(KeyStoreError, match="thumbprint mismatch"):
        KeyStore(store.directory).load()


def test_second_ensure_loads_the_same_keys(store: KeyStore, clock: Clock) -> None:
    before = states(store)
    again = KeyStore(store.directory, clock=clock)
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


def test_rotate_promotes_next_and_retires_current(store: KeyStore, clock: Clock) -> None:
    old_current = store.signing_key().kid
    old_next = next(k for k, s in states(store).items() if s == NEXT)
    clock.now += store.jwks_max_age
    result = store.rotate()
    after = states(store)
    assert result.retired == old_current and result.current == old_next
    assert after[old_current] == RETIRED
    assert after[old_next] == CURRENT
    assert after[result.next] == NEXT and result.next not in (old_current, old_next)
    assert store.signing_key().kid == old_next
    assert old_current in {k["kid"] for k in store.jwks()["keys"]}


def test_rotate_before_the_next_key_is_known_to_caches_is_refused(
    store: KeyStore, clock: Clock
) -> None:
    clock.now += store.jwks_max_age - 5
    before = (store.directory / "manifest.json").read_bytes()
    with pytest.raises(RotationRefused, match="--force"):
        store.rotate()
    assert (store.directory / "manifest.json").read_bytes() == before
    assert store.rotate(force=True).forced is True


def test_two_rotations_in_a_row_are_refused_without_force(store: KeyStore, clock: Clock) -> None:
    clock.now += store.jwks_max_age
    store.rotate()
    with pytest.raises(RotationRefused):
        store.rotate()


def test_dry_run_writes_nothing(store: KeyStore, clock: Clock) -> None:
    clock.now += store.jwks_max_age
    before = sorted(os.listdir(store.directory))
    manifest = (store.directory / "manifest.json").read_bytes()
    result = store.rotate(dry_run=True)
    assert result.dry_run and result.current != store.signing_key().kid
    assert result.to_dict()["next"] is None  # no fresh key exists in a dry run
    assert (store.directory / "manifest.json").read_bytes() == manifest
    assert sorted(os.listdir(store.directory)) == before


def test_prune_respects_the_retirement_window(store: KeyStore, clock: Clock) -> None:
    clock.now += store.jwks_max_age
    retired = store.rotate().retired
    assert retired
    clock.now += store.retire_after - 1
    assert store.prune().pruned == []
    assert retired in states(store)
    clock.now += 1
    assert store.prune().pruned == [retired]
    assert retired not in states(store)
    assert not (store.directory / f"{retired}.pem").exists()
    assert retired not in {k["kid"] for k in store.jwks()["keys"]}


def test_withdraw_removes_a_retired_key_before_its_window_ends(
    store: KeyStore, clock: Clock
) -> None:
    clock.now += store.jwks_max_age
    retired = store.rotate().retired
    assert retired and store.prune().pruned == []  # its tokens may still be alive
    result = store.withdraw(retired)
    assert (result.withdrawn, result.state, result.new_next) == (retired, RETIRED, None)
    assert retired not in states(store)
    assert retired not in {k["kid"] for k in store.jwks()["keys"]}
    assert not (store.directory / f"{retired}.pem").exists()


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


def test_another_process_view_follows_a_rotation_without_restart(
    store: KeyStore, clock: Clock
) -> None:
    worker = KeyStore(store.directory, check_interval=0)
    worker.load()
    before = worker.signing_key().kid
    clock.now += store.jwks_max_age
    time.sleep(0.01)  # a distinct mtime for the new manifest
    result = store.rotate()
    assert worker.signing_key().kid == result.current != before
    assert result.next in {k["kid"] for k in worker.jwks()["keys"]}


def test_reload_is_throttled_by_check_interval(store: KeyStore, clock: Clock) -> None:
    worker = KeyStore(store.directory, check_interval=3600)
    worker.load()
    before = worker.signing_key().kid
    clock.now += store.jwks_max_age
    store.rotate()
    assert worker.signing_key().kid == before  # not checked yet: cached
    worker.load()
    assert worker.signing_key().kid != before


def test_corrupt_manifest_is_a_clear_error_naming_the_file(store: KeyStore) -> None:
    (store.directory / "manifest.json").write_text("{not json")
    fresh = KeyStore(store.directory)
    with pytest.raises(KeyStoreError, match="manifest.json is corrupt"):
        fresh.ensure()
    assert (store.directory / "manifest.json").read_text() == "{not json"


def test_missing_key_file_is_a_clear_error(store: KeyStore) -> None:
    kid = store.signing_key().kid
    (store.directory / f"{kid}.pem").unlink()
    with pytest.raises(KeyStoreError, match=f"{kid}.pem is missing"):
        KeyStore(store.directory).ensure()


def test_manifest_without_current_key_is_not_silently_recreated(store: KeyStore) -> None:
    path = store.directory / "manifest.json"
    data = json.loads(path.read_text())
    data["keys"] = [k for k in data["keys"] if k["state"] != CURRENT]
    path.write_text(json.dumps(data))
    with pytest.raises(KeyStoreError, match="exactly one current"):
        KeyStore(store.directory).ensure()


def test_a_running_store_keeps_its_keys_when_the_manifest_breaks(store: KeyStore) -> None:
    kid = store.signing_key().kid
    (store.directory / "manifest.json").write_text("garbage")
    assert store.signing_key().kid == kid


def test_passphrase_encrypts_keys_at_rest(tmp_path: Path) -> None:
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


def test_a_failure_between_key_file_and_manifest_loses_nothing(
    store: KeyStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = set(states(store))
    clock.now += store.jwks_max_age
    real_replace = os.replace

    def fail_on_manifest(src: str, dst: str) -> None:
        if str(dst).endswith("manifest.json"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_manifest)
    with pytest.raises(OSError):
        store.rotate()
    monkeypatch.undo()
    survivor = KeyStore(store.directory)
    survivor.load()
    assert set(states(survivor)) == published
    assert not [p for p in os.listdir(store.directory) if p.endswith(".tmp")]


ROTATE_LOOP = """
import sys
from authserver.keystore import KeyStore
store = KeyStore(sys.argv[1])
print("ready", flush=True)
while True:
    store.rotate(force=True)
    store.prune()
"""


def test_kill_9_during_rotations_never_corrupts_the_store(store: KeyStore) -> None:
    rng = random.Random(7)
    for _ in range(12):
        before = KeyStore(store.directory)
        before.load()
        known = {k.kid for k in before.list_keys() if k.state != RETIRED}
        process = subprocess.Popen(
            [sys.executable, "-c", ROTATE_LOOP, str(store.directory)],
            stdout=subprocess.PIPE, cwd=REPO,
        )
        assert process.stdout is not None
        process.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = KeyStore(store.directory)
        after.load()  # always loads
        listed = after.list_keys()
        assert sum(k.state == CURRENT for k in listed) == 1
        assert sum(k.state == NEXT for k in listed) == 1
        for key in listed:
            assert (store.directory / f"{key.kid}.pem").exists()
        # Keys that were signing or about to sign were at most retired, never lost
        # (retire_after is 960 s, and no wall-clock time passed that could prune them).
        assert known <= {k.kid for k in listed}


def test_concurrent_rotations_queue_on_the_lock(store: KeyStore) -> None:
    script = REPO / "scripts" / "rotate_keys.py"
    env = {**os.environ, "AUTHSERVER_KEYS_DIR": str(store.directory)}
    processes = [
        subprocess.Popen([sys.executable, str(script), "--force", "--json"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [json.loads(p.communicate(timeout=60)[0]) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    after = KeyStore(store.directory)
    after.load()
    listed = after.list_keys()
    assert sum(k.state == CURRENT for k in listed) == 1
    assert sum(k.state == RETIRED for k in listed) == 3
    # Each rotation promoted a different key: they ran one after another, not interleaved.
    assert len({r["current"] for r in results}) == 3


def test_cli_keys_list_rotate_and_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KeyStore(tmp_path / "keys")  # the real clock, like the CLI's
    store.ensure()
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", str(store.directory))
    runner = CliRunner()
    listed = runner.invoke(main, ["keys", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {k["state"] for k in json.loads(listed.stdout)["keys"]} == {CURRENT, NEXT}
    dry = runner.invoke(main, ["keys", "rotate", "--dry-run", "--force", "--json"])
    assert dry.exit_code == 0 and json.loads(dry.stdout)["dry_run"] is True
    refused = runner.invoke(main, ["keys", "rotate"])
    assert refused.exit_code == 1
    assert "--force" in refused.stderr
    table = runner.invoke(main, ["keys", "list"])
    assert store.signing_key().kid in table.stdout


def test_cli_keys_withdraw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = KeyStore(tmp_path / "keys")
    store.ensure()
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", str(store.directory))
    runner = CliRunner()
    current = store.signing_key().kid
    refused = runner.invoke(main, ["keys", "withdraw", current])
    assert refused.exit_code == 1 and "rotate --force" in refused.stderr
    assert runner.invoke(main, ["keys", "rotate", "--force"]).exit_code == 0
    withdrawn = runner.invoke(main, ["keys", "withdraw", current, "--json"])
    assert withdrawn.exit_code == 0, withdrawn.output
    assert json.loads(withdrawn.stdout) == {"withdrawn": current, "state": RETIRED,
                                            "new_next": None}
    assert current not in states(store)
    # A kid is base64url and may begin with "-": it is still the argument, not an option.
    dashed = runner.invoke(main, ["keys", "withdraw", "-Xx_1"])
    assert dashed.exit_code == 1 and "no key '-Xx_1'" in dashed.stderr


def test_rotate_script_prints_what_changed(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    store.ensure()
    env = {**os.environ, "AUTHSERVER_KEYS_DIR": str(store.directory)}
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "rotate_keys.py"), "--force"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "next -> current" in result.stdout
    refused = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "rotate_keys.py")],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode == 1
    assert "--force" in refused.stderr


def test_reading_the_loaded_keys_does_not_touch_the_disk(store: KeyStore,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """What /metrics reads on every scrape: the loaded snapshot, not every key file again."""
    reads: list[int] = []
    real = store.backend.read_manifest
    monkeypatch.setattr(store.backend, "read_manifest", lambda: reads.append(1) or real())
    for _ in range(3):
        assert [k.state for k in store.published_keys()].count(CURRENT) == 1
    assert reads == []
