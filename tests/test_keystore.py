"""The rotating key store on both backends (files in keys/, and the database on SQLite and
PostgreSQL): lifecycle, pre-publication, pruning, withdrawal, reloads, crash safety, the CLI.
Checks that only make sense for one backend (file modes, a missing key file) say so."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey
from sqlalchemy import Engine, text

from authserver.config import Settings
from authserver.db import make_engine
from authserver.keystore import CURRENT, NEXT, RETIRED, KeyStore, KeyStoreError, RotationRefused
from authserver.keystore.database import DatabaseBackend

from .conftest import _database_url, migrate_from_template
from .support import cli_in_process, without_settings

REPO = Path(__file__).resolve().parent.parent
PASSPHRASE = "key-store-test-passphrase"
KINDS = ["files", "sqlite", "postgresql"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Place:
    """Where a test's key store lives: keys/ (files), or a fresh database (whose keys dir must
    stay empty); opens views of it as other processes would."""

    kind: str
    directory: Path
    database_url: str | None = None
    tmp: Path = Path()
    engines: list[Engine] = field(default_factory=list)

    @property
    def in_database(self) -> bool:
        return self.database_url is not None

    def open(self, **options: Any) -> KeyStore:
        if self.database_url is None:
            return KeyStore(self.directory, **options)
        engine = make_engine(Settings(database_url=self.database_url))
        self.engines.append(engine)
        backend = DatabaseBackend(engine, passphrase=options.pop("passphrase", PASSPHRASE).encode(),
                                  lock_timeout=options.pop("lock_timeout", 30.0))
        return KeyStore(self.directory, backend=backend, **options)

    def env(self) -> dict[str, str]:
        """The environment of a CLI or script run against this store: this process's without
        its AUTHSERVER_* settings. In process, run the CLI with `cli_in_process`, which unsets
        them (CliRunner's env= only overrides the names it is given)."""
        env = without_settings(os.environ)
        env.update(AUTHSERVER_KEYS_DIR=str(self.directory),
                   AUTHSERVER_AUDIT_LOG=str(self.tmp / "audit.log"),
                   AUTHSERVER_INSTANCE_DIR=str(self.tmp / "instance"))
        if self.database_url is not None:
            env.update(AUTHSERVER_KEY_STORE="database", AUTHSERVER_DATABASE_URL=self.database_url,
                       AUTHSERVER_KEYS_PASSPHRASE=PASSPHRASE)
        return env

    def sql(self, statement: str, **params: Any) -> list[Any]:
        assert self.database_url is not None
        engine = make_engine(Settings(database_url=self.database_url))
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    def raw(self) -> Any:
        """Everything stored, to compare before and after something that must write nothing."""
        if self.database_url is None:
            return (sorted(os.listdir(self.directory)),
                    (self.directory / "manifest.json").read_bytes())
        return (self.sql("SELECT * FROM signing_keys ORDER BY kid"),
                self.sql("SELECT version FROM key_store_version"))

    def holds(self, kid: str) -> bool:
        """Whether the private key of `kid` is still stored."""
        if self.database_url is None:
            return (self.directory / f"{kid}.pem").exists()
        return bool(self.sql("SELECT kid FROM signing_keys WHERE kid = :kid", kid=kid))


@pytest.fixture(params=KINDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    directory = tmp_path / "keys"
    if request.param == "files":
        yield Place("files", directory, tmp=tmp_path)
        return
    for url in _database_url(request, tmp_path, request.param):
        migrate_from_template(request, url)
        created = Place(request.param, directory, url, tmp=tmp_path)
        yield created
        for engine in created.engines:
            engine.dispose()
        # The database store never writes to the keys dir.
        assert not directory.exists() or os.listdir(directory) == []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(place: Place, clock: Clock) -> KeyStore:
    created = place.open(clock=clock, check_interval=0)
    created.ensure()
    return created


@pytest.fixture
def files_store(tmp_path: Path, clock: Clock) -> KeyStore:
    """For the checks of the files backend alone."""
    created = KeyStore(tmp_path / "keys", clock=clock, check_interval=0)
    created.ensure()
    return created


def states(store: KeyStore) -> dict[str, str]:
    return {k.kid: k.state for k in store.list_keys()}


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


# -- crash safety and concurrency -------------------------------------------------------------

def test_a_failure_between_key_file_and_manifest_loses_nothing(
    files_store: KeyStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """files backend: the manifest is replaced last."""
    published = set(states(files_store))
    clock.now += files_store.jwks_max_age
    real_replace = os.replace

    def fail_on_manifest(src: str, dst: str) -> None:
        if str(dst).endswith("manifest.json"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_manifest)
    with pytest.raises(OSError):
        files_store.rotate()
    monkeypatch.undo()
    survivor = KeyStore(files_store.directory)
    survivor.load()
    assert set(states(survivor)) == published
    assert not [p for p in os.listdir(files_store.directory) if p.endswith(".tmp")]


# One interpreter for all the kills: each line on stdin forks a rotator (a process of its own,
# with its own connections, made after the fork), prints its pid, and reports how it ended.
# A fork costs milliseconds where starting Python and importing the store cost a second or two.
ROTATE_LOOP = """
import os, sys
from authserver.config import Settings
from authserver.keystore import KeyStore
settings = Settings.from_env()
print("ready", flush=True)
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            store = KeyStore.from_settings(settings)
            while True:
                store.rotate(force=True)
                store.prune()
        finally:
            os._exit(3)
    print(pid, flush=True)
    print(os.waitpid(pid, 0)[1], flush=True)
"""


def test_kill_9_during_rotations_never_corrupts_the_store(place: Place, store: KeyStore) -> None:
    rng = random.Random(7)
    forker = subprocess.Popen([sys.executable, "-c", ROTATE_LOOP], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=REPO, env=place.env())
    assert forker.stdin is not None and forker.stdout is not None
    try:
        assert forker.stdout.readline() == "ready\n"
        for _ in range(12):
            before = place.open()
            before.load()
            known = {k.kid for k in before.list_keys() if k.state != RETIRED}
            forker.stdin.write("go\n")
            forker.stdin.flush()
            rotator = int(forker.stdout.readline())
            time.sleep(rng.uniform(0.0, 0.4))
            os.kill(rotator, signal.SIGKILL)
            status = int(forker.stdout.readline())
            # Killed while rotating: it had not stopped on an error of its own before.
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            after = place.open()
            after.load()  # always loads
            listed = after.list_keys()
            assert sum(k.state == CURRENT for k in listed) == 1
            assert sum(k.state == NEXT for k in listed) == 1
            for key in listed:
                assert place.holds(key.kid)
            # Keys that were signing or about to sign were at most retired, never lost
            # (retire_after is 960 s, and no wall-clock time passed that could prune them).
            assert known <= {k.kid for k in listed}
    finally:
        forker.kill()
        forker.wait()


def test_concurrent_rotations_queue_on_the_lock(place: Place, store: KeyStore) -> None:
    """Three hosts (processes) rotate at once: one after another, never interleaved."""
    script = REPO / "scripts" / "rotate_keys.py"
    processes = [
        subprocess.Popen([sys.executable, str(script), "--force", "--json"], env=place.env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    results = [json.loads(out) for out, _ in outputs]
    after = place.open()
    after.load()
    listed = after.list_keys()
    assert sum(k.state == CURRENT for k in listed) == 1
    assert sum(k.state == RETIRED for k in listed) == 3
    # Each rotation promoted a different key: they ran one after another, not interleaved.
    assert len({r["current"] for r in results}) == 3


# -- the CLI and the script, the same on both backends ----------------------------------------

@pytest.fixture
def live_store(place: Place) -> KeyStore:
    """A store on the real clock, like the CLI's."""
    created = place.open()
    created.ensure()
    return created


def test_cli_keys_list_rotate_and_refusal(place: Place, live_store: KeyStore) -> None:
    env = place.env()
    listed = cli_in_process(["keys", "list", "--json"], env=env)
    assert listed.returncode == 0, listed.stderr
    assert {k["state"] for k in json.loads(listed.stdout)["keys"]} == {CURRENT, NEXT}
    dry = cli_in_process(["keys", "rotate", "--dry-run", "--force", "--json"], env=env)
    assert dry.returncode == 0 and json.loads(dry.stdout)["dry_run"] is True
    refused = cli_in_process(["keys", "rotate"], env=env)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    table = cli_in_process(["keys", "list"], env=env)
    assert live_store.signing_key().kid in table.stdout


def test_cli_keys_withdraw(place: Place, live_store: KeyStore) -> None:
    env = place.env()
    current = live_store.signing_key().kid
    refused = cli_in_process(["keys", "withdraw", current], env=env)
    assert refused.returncode == 1 and "rotate --force" in refused.stderr, refused
    assert cli_in_process(["keys", "rotate", "--force"], env=env).returncode == 0
    withdrawn = cli_in_process(["keys", "withdraw", current, "--json"], env=env)
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert json.loads(withdrawn.stdout) == {"withdrawn": current, "state": RETIRED,
                                            "new_next": None}
    assert current not in states(live_store)
    # A kid is base64url and may begin with "-": it is still the argument, not an option, even
    # with an "h" in it. Click read "-Xh_1" as -X -h -_ -1: the help, exit 0, nothing
    # withdrawn; CI failed so once, the refusal above exiting 0, when the current key's kid
    # was such a word (about 1 kid in 130: a leading "-", then an "h" among 42 characters).
    for kid in ("-Xx_1", "-Xh_1"):
        dashed = cli_in_process(["keys", "withdraw", kid], env=env)
        assert dashed.returncode == 2 and f"no key '{kid}'" in dashed.stderr, dashed


def test_rotate_script_prints_what_changed(place: Place, live_store: KeyStore) -> None:
    script = [sys.executable, str(REPO / "scripts" / "rotate_keys.py")]
    result = subprocess.run([*script, "--force"], env=place.env(), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "next -> current" in result.stdout
    refused = subprocess.run(script, env=place.env(), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
