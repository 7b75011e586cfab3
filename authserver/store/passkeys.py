"""Passkeys (models/passkeys.py): a user's WebAuthn credentials, and the challenges of the
ceremonies in progress, each bound to the browser that asked for it and used once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..models import Passkey, PasskeyChallenge, User

if TYPE_CHECKING:
    from . import Store

# A ceremony's time (the browser's own timeout is 60 s; the person may be slow to touch a key).
CHALLENGE_TTL = 300
# How many passkeys one account may have (a bound on what a page lists and a browser excludes).
MAX_PASSKEYS = 20


@dataclass(frozen=True)
class Challenge:
    value: bytes
    user_id: int | None


class Passkeys:
    def __init__(self, store: Store) -> None:
        self.store = store

    # The challenges.

    def new_challenge(self, browser: str, purpose: str, user_id: int | None = None) -> bytes:
        """A fresh challenge for this browser's ceremony (replacing the one it had for the same
        purpose); committed at once, as the browser will come back in another request."""
        value, now = secrets.token_bytes(32), self.store.now()
        # One statement, the dialect's upsert (INSERT ... ON CONFLICT DO UPDATE): a delete and
        # an insert let two requests of one browser (two tabs) both insert, and the second
        # then fail on the unique (browser, purpose) on PostgreSQL.
        upsert = sqlite_insert if self.store.database.is_sqlite else postgresql_insert
        statement = upsert(PasskeyChallenge).values(
            browser=browser, purpose=purpose, challenge=value.hex(), user_id=user_id,
            expires_at=now + CHALLENGE_TTL)
        self.store.begin_write().execute(statement.on_conflict_do_update(
            index_elements=["browser", "purpose"],
            set_={name: statement.excluded[name] for name in
                  ("challenge", "user_id", "expires_at")}))
        self.store.commit()
        return value

    def take_challenge(self, browser: str, purpose: str) -> Challenge | None:
        """This browser's live challenge for `purpose`, spent (deleted and committed) whatever
        the answer turns out to be: a response is checked against it once."""
        session = self.store.begin_write()
        found = session.scalar(select(PasskeyChallenge).where(
            PasskeyChallenge.browser == browser, PasskeyChallenge.purpose == purpose))
        if found is None:
            return None
        # (Its value too: a newer challenge of the browser takes the same row.)
        spent = session.execute(delete(PasskeyChallenge).where(
            PasskeyChallenge.id == found.id, PasskeyChallenge.challenge == found.challenge)
            .execution_options(synchronize_session=False))
        self.store.commit()
        if not spent.rowcount or found.expires_at <= self.store.now():  # type: ignore[attr-defined]
            return None  # another request spent it first, or it is too old
        return Challenge(bytes.fromhex(found.challenge), found.user_id)

    # The credentials.

    def of_user(self, user: User | int) -> list[Passkey]:
        user_id = user if isinstance(user, int) else user.id
        return list(self.store.session().scalars(
            select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.id)))

    def count(self, user: User) -> int:
        return int(self.store.session().scalar(
            select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id)) or 0)

    def find(self, credential_id: str) -> Passkey | None:
        return self.store.session().scalar(
            select(Passkey).where(Passkey.credential_id == credential_id))

    def add(self, user: User, credential_id: str, public_key: bytes, sign_count: int,
            name: str, transports: list[str]) -> Passkey | None:
        """A new passkey, or None when that credential is registered already (to anyone)."""
        session = self.store.begin_write()
        if self.find(credential_id) is not None:
            return None
        passkey = Passkey(user_id=user.id, credential_id=credential_id, public_key=public_key,
                          sign_count=sign_count, name=name,
                          transports=" ".join(transports)[:200] or None,
                          created_at=self.store.now())
        session.add(passkey)
        session.flush()
        return passkey

    def used(self, passkey: Passkey, new_sign_count: int) -> bool:
        """Records a verified use: the new counter and the time. Compare-and-set on the counter
        seen, so two requests with one assertion cannot both pass; False when one did first."""
        result = self.store.begin_write().execute(
            update(Passkey)
            .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
            .values(sign_count=new_sign_count, last_used_at=self.store.now())
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def rename(self, user: User, passkey_id: int, name: str) -> bool:
        result = self.store.begin_write().execute(
            update(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)
            .values(name=name).execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def remove(self, user: User, passkey_id: int) -> bool:
        result = self.store.begin_write().execute(
            delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def remove_all(self, user: User) -> int:
        """Every passkey of a user (an operator's `user mfa reset`)."""
        result = self.store.begin_write().execute(
            delete(Passkey).where(Passkey.user_id == user.id)
            .execution_options(synchronize_session=False))
        return int(result.rowcount)  # type: ignore[attr-defined]
