"""Shared fixtures: settings on a real SQLite file or a real PostgreSQL schema, real RSA keys,
the Flask test client, and a real `authserver serve` process.

Database-backed fixtures run once per backend. PostgreSQL is at AUTHSERVER_TEST_POSTGRES_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test); locally its tests skip when it is
down, but under CI=true an unreachable PostgreSQL is a failure, never a silent skip.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from authserver import create_app
from authserver.config import Settings
from authserver.db import migrate
from authserver.keystore import KeyStore

from .browser import Browser, new_user
from .chromium import _chromium_process, chromium_browser  # noqa: F401 (fixtures)
from .helpers import PASSWORD, REDIRECT, make_client, make_user
from .inprocess import InProcessServer, start_in_process
from .support import PrivateRedis, ServerProcess, copy_keys, postgres_schema, start_server
from .templates import (
    POOLED,
    PostgresSchemaPool,
    PostgresTemplate,
    copy_sqlite_template,
    migrated_postgres_template,
    migrated_sqlite_template,
    schema_of,
)

RP_DIR = Path(__file__).resolve().parent / "rp"
POSTGRES_URL = os.environ.get(
    "AUTHSERVER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# No test writes to the developer's instance/: commands run in process (CliRunner) write their
# audit lines and session key under AUTHSERVER_INSTANCE_DIR, which would otherwise be the
# working directory's instance/ (the audit file is opened once per process, by the first
# command that audits). Subprocesses get their own (support.server_env).
os.environ["AUTHSERVER_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="authserver-test-instance-")
# argon2id and scrypt at their cheapest in every process of the run (authserver/hashing.py;
# subprocesses get it through support.server_env): the production cost was minutes of the
# suite. The tests of what a weak password hash is replaced with ask for production hashing.
os.environ.setdefault("AUTHSERVER_TEST_FAST_HASHING", "1")
BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_finish(session: pytest.Session) -> None:
    """The garbage collector was a quarter of an in-process test's time: each test drops an app
    (hundreds of thousands of objects in cycles), and every full collection walked the whole
    heap again, the imported libraries and the collected tests included. What exists once the
    tests are collected lives until the end, so it is frozen out of the collections, and the
    youngest generation is collected less often (measured: test_admin_idps and
    test_token_endpoint from 14.3 to 11.3 s, the collector from 4.0 to 1.5 s)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(5000, 10, 10)


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_ready() -> bool:
    if _postgres_available():
        return True
    if IN_CI:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}; CI must not skip it")
    pytest.skip("PostgreSQL not reachable (set up by .ci/run in CI)")
    return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of the test's own (support.PrivateRedis), started; stopped after."""
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def key_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real key store generated per session, copied into each test (RSA keygen is slow)."""
    directory = tmp_path_factory.mktemp("key-template") / "keys"
    KeyStore(directory).ensure()
    return directory


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; tests get copies (see tests/templates.py)."""
    return migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_template(postgres_ready: bool) -> PostgresTemplate:
    """A PostgreSQL schema migrated once per session, replayed into each test's schema."""
    return migrated_postgres_template(POSTGRES_URL)


def migrate_from_template(request: pytest.FixtureRequest, database_url: str) -> None:
    """Bring the new, empty database at `database_url` to the newest revision: a copy of the
    session's migrated template when it is one of ours (a new SQLite file, a new test schema),
    nothing for a schema of the pool (migrated already), else the migrations themselves."""
    if (schema_of(database_url) or "").startswith(POOLED):
        return
    if database_url.startswith("sqlite"):
        if copy_sqlite_template(request.getfixturevalue("sqlite_template"), database_url):
            return
    elif request.getfixturevalue("postgres_template").fill(database_url):
        return
    migrate(Settings(database_url=database_url))


@pytest.fixture(scope="session")
def postgres_schemas(postgres_template: PostgresTemplate) -> Iterator[PostgresSchemaPool]:
    """Migrated PostgreSQL schemas, used again test after test (tests/templates.py)."""
    pool = PostgresSchemaPool(postgres_template)
    yield pool
    pool.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own. A test with `settings` (the app) gets it migrated: on
    PostgreSQL a schema from the pool, emptied after the test; any other test gets an empty
    one, to migrate (or not) itself."""
    if request.param == "postgresql" and "settings" in request.fixturenames:
        request.getfixturevalue("postgres_ready")
        with request.getfixturevalue("postgres_schemas").schema() as url:
            yield url
        return
    yield from _database_url(request, tmp_path)


def _database_url(request: pytest.FixtureRequest, tmp_path: Path,
                  backend: str | None = None) -> Iterator[str]:
    """A fresh database of `backend` (default: the fixture's parameter): a SQLite file, or a
    schema of its own in PostgreSQL, dropped afterwards."""
    if (backend or request.param) == "sqlite":
        yield f"sqlite:///{tmp_path / 'authserver.db'}"
        return
    request.getfixturevalue("postgres_ready")
    with postgres_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path,
             key_template: Path) -> Settings:
    keys_dir = copy_keys(key_template, tmp_path)
    configured = Settings(
        issuer="http://authserver.test",
        allow_insecure_issuer=True,  # a test host name, not a deployment
        database_url=database_url,
        keys_dir=str(keys_dir),
        instance_dir=str(tmp_path / "instance"),
    ).with_defaults()
    migrate_from_template(request, database_url)
    return configured


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
    application.extensions["authserver.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    key_template: Path,
) -> Iterator[ServerProcess]:
    """A real `authserver serve` (Granian, 2 workers) on a free port, shared by a module; a
    module's SERVER_ENV (a dict) adds settings. A module with IN_PROCESS = True gets the app in
    this process behind the same interface instead (tests/inprocess.py): for modules about
    what the server answers, not about the process."""
    tmp_path = tmp_path_factory.mktemp("server")
    urls = _database_url(request, tmp_path)
    url = next(urls)
    keys_dir = copy_keys(key_template, tmp_path)
    migrate_from_template(request, url)  # serve would migrate it, slower
    extra_env = getattr(request.module, "SERVER_ENV", None)
    process: ServerProcess | InProcessServer
    if getattr(request.module, "IN_PROCESS", False):
        process = start_in_process(database_url=url, keys_dir=keys_dir, extra_env=extra_env)
    else:
        process = start_server(tmp_path, database_url=url, keys_dir=keys_dir,
                               extra_env=extra_env)
    try:
        yield process
    finally:
        process.stop()
        for _ in urls:  # run the schema teardown
            pass


@pytest.fixture
def browser(server: ServerProcess) -> Iterator[Browser]:
    """A new user of the module's server and a browser of theirs, signed in to nothing (a
    module that needs the user's claims defines its own)."""
    user_browser = new_user(server, PASSWORD)
    yield user_browser
    user_browser.close()


@pytest.fixture
def no_traceback(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """In-process tests: nothing the app handled was a server fault (the 500 handler logs a
    traceback at ERROR; a test client sees only the JSON)."""
    with caplog.at_level(logging.INFO):
        yield
    faults = [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert faults == []


@pytest.fixture
def user(app: Flask) -> str:
    """alice, with an email and a name; returns her subject."""
    return make_user(app, email="alice@example.com", name="Alice")


@pytest.fixture
def cc_client(app: Flask) -> tuple[str, str]:
    """A confidential client_credentials client with the API scopes."""
    return make_client(app, scope="profile notes:read notes:write")


@pytest.fixture
def password_client(app: Flask) -> tuple[str, str]:
    """A confidential first-party client: password and refresh_token grants, every scope."""
    return make_client(app, grant_types=["password", "refresh_token"])


@pytest.fixture
def public_client(app: Flask) -> str:
    """A public code-flow client (PKCE, no secret) with refresh tokens."""
    client_id, _ = make_client(
        app, grant_types=["authorization_code", "refresh_token"], redirect_uris=[REDIRECT],
        auth_method="none",
    )
    return client_id


@pytest.fixture(scope="module")
def node_rp() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for the relying-party test")
        pytest.skip("node/npm not installed")
    if not (RP_DIR / "node_modules" / "openid-client").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=RP_DIR, check=True,
                       capture_output=True, timeout=300)
    return RP_DIR / "rp.mjs"
