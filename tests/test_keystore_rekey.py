"""`keys rekey` reseals everything sealed with AUTHSERVER_KEYS_PASSPHRASE, not only the keys:
authenticator app secrets (a user set up at /account of the app, in process: what the server
answers, not the process, tests/inprocess.py) and identity providers' client secrets, in one
transaction, on SQLite and PostgreSQL. After it, the app started with the new passphrase
takes the user's pyotp code; a refused rekey (a wrong passphrase, or one secret that does not
open) writes nothing anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from authserver.keystore import KeyStore, sealing
from authserver.models import TotpSecret, User
from authserver.store.idps import client_secret_of, create_idp, find_idp

from . import test_keystore_database as database_store
from .browser import Browser, new_user
from .inprocess import InProcessServer, start_in_process
from .keystore_support import PASSPHRASE, Place
from .support import cli_in_process
from .two_factor_support import PASSWORD, Person, account_sign_in, post_code, set_up_totp, signed_in

# The fixtures of the database key store's tests: a migrated SQLite or PostgreSQL database
# with its first keys.
place, store = database_store.place, database_store.store
_cells = database_store._cells
NEW_PASSPHRASE = "the new passphrase"
IDP_SECRET = "the client secret at the provider"


def _serve(place: Place, tmp_path: Path, passphrase: str) -> InProcessServer:
    assert place.database_url is not None
    return start_in_process(database_url=place.database_url, keys_dir=tmp_path / "keys",
                            extra_env={"AUTHSERVER_KEY_STORE": "database",
                                       "AUTHSERVER_KEYS_PASSPHRASE": passphrase})


def _add_idp(place: Place) -> None:
    """A provider as `idp create` stores it (its discovery read elsewhere), sealed."""
    engine = create_engine(place.database_url or "")
    try:
        with Session(engine) as session:
            create_idp(session, slug="upstream", name="Upstream", issuer="https://idp.example",
                       client_id="ours", client_secret=IDP_SECRET, scope="openid",
                       link_by_email=False, create_users=False,
                       discovery={"issuer": "https://idp.example"}, passphrase=PASSPHRASE)
            session.commit()
    finally:
        engine.dispose()


def _idp_secret(place: Place, passphrase: str) -> str:
    engine = create_engine(place.database_url or "")
    try:
        with Session(engine) as session:
            idp = find_idp(session, "upstream")
            assert idp is not None
            return client_secret_of(idp, passphrase)
    finally:
        engine.dispose()


def _user_with_an_app(place: Place, tmp_path: Path) -> Iterator[Person]:
    """A user who set up an authenticator app at /account of a server with the old
    passphrase (the server stopped after)."""
    server = _serve(place, tmp_path, PASSPHRASE)
    try:
        person = Person(new_user(server, PASSWORD))
        set_up_totp(server, person)
        person.browser.close()
        assert "Traceback" not in server.log()
    finally:
        server.stop()
    yield person


def _rekey(place: Place, passphrase: str = PASSPHRASE) -> tuple[int, str, str]:
    done = cli_in_process(["keys", "rekey", "--new-passphrase-stdin", "--json"],
                          env={**place.env(), "AUTHSERVER_KEYS_PASSPHRASE": passphrase},
                          stdin=NEW_PASSPHRASE + "\n")
    return done.returncode, done.stdout, done.stderr


def test_after_a_rekey_the_user_signs_in_with_a_code_and_the_provider_secret_opens(
    place: Place, store: KeyStore, tmp_path: Path
) -> None:
    person = next(_user_with_an_app(place, tmp_path))
    _add_idp(place)
    before = list(_cells(place))

    code, out, err = _rekey(place, "not the passphrase")
    assert code == 1 and "wrong AUTHSERVER_KEYS_PASSPHRASE" in err, (out, err)
    assert list(_cells(place)) == before  # nothing written: keys, secrets, version

    # The operator's command as a process of its own (its audit trail is configured once per
    # process: in process, an earlier command's would be used).
    done = subprocess.run([sys.executable, "-m", "authserver", "keys", "rekey",
                           "--new-passphrase-stdin", "--json"], env=place.env(),
                          input=NEW_PASSPHRASE + "\n", capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"rekeyed": 2, "totp_secrets": 1, "idp_client_secrets": 1}
    audited = [json.loads(line) for line in (place.tmp / "audit.log").read_text().splitlines()]
    assert [(e["event"], e["keys"], e["totp_apps"], e["idps"]) for e in audited
            if e["event"] == "admin.keys_rekeyed"] == [("admin.keys_rekeyed", 2, 1, 1)]

    server = _serve(place, tmp_path, NEW_PASSPHRASE)
    again = Person(Browser(server, person.browser.username, PASSWORD), person.totp,
                   person.used_step)
    try:
        page = account_sign_in(server, again)
        assert page.status_code == 200 and not signed_in(server, again), page.text
        assert post_code(server, again, page, again.code()).status_code == 303
        assert signed_in(server, again)
        assert "Traceback" not in server.log()
    finally:
        again.browser.close()
        server.stop()
    assert _idp_secret(place, NEW_PASSPHRASE) == IDP_SECRET


def test_a_secret_that_does_not_open_refuses_the_whole_rekey(
    place: Place, store: KeyStore, tmp_path: Path
) -> None:
    person = next(_user_with_an_app(place, tmp_path))
    _add_idp(place)
    # One app secret sealed with another passphrase (a restore from elsewhere): the keys open,
    # this does not, and the keys resealed before it must not stay resealed.
    engine = create_engine(place.database_url or "")
    try:
        with engine.begin() as conn:
            user_id = conn.scalar(select(User.id).where(
                User.username == person.browser.username))
            conn.execute(update(TotpSecret).where(TotpSecret.user_id == user_id).values(
                secret=sealing.seal(b"JBSWY3DPEHPK3PXP", b"another", f"totp:{user_id}")))
    finally:
        engine.dispose()
    before = list(_cells(place))
    code, out, err = _rekey(place)
    assert code == 1 and f"authenticator app secret of user id {user_id}" in err, (out, err)
    assert list(_cells(place)) == before
    place.open().load()  # the old passphrase still opens every key
    assert _idp_secret(place, PASSPHRASE) == IDP_SECRET
