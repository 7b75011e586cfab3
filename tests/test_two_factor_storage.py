"""How second factors are stored (operations/mfa.py on the real database): the app's secret
sealed with AUTHSERVER_KEYS_PASSPHRASE (and bound to its user), recovery codes as hashes, a
code spent once even by two sessions at the same moment."""

from __future__ import annotations

import time

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from authserver.keystore.lifecycle import KeyStoreError
from authserver.models import RecoveryCode, TotpSecret, User
from authserver.operations import mfa, users

from .helpers import make_user

PASSPHRASE = "a passphrase for the sealed secrets"


def _user(session: object, username: str) -> User:
    return users.find(session, username)  # type: ignore[arg-type]


def test_the_secret_is_sealed_and_the_codes_hashed(app: Flask) -> None:
    make_user(app, "sealed")
    make_user(app, "other")
    db = app.extensions["authserver.db"]
    with db.session() as session:
        user = _user(session, "sealed")
        started = mfa.begin_totp(session, user, issuer_host="example.com", passphrase=PASSPHRASE)
        assert started.uri.startswith("otpauth://totp/example.com:sealed?")
        row = session.get(TotpSecret, user.id)
        assert row is not None and started.secret not in row.secret
        assert row.secret.startswith("scrypt-aes256gcm-v1$")
        now = int(time.time())
        codes = mfa.confirm_totp(session, user, pyotp.TOTP(started.secret).at(now),
                                 passphrase=PASSPHRASE, now=now)
        stored = session.scalars(select(RecoveryCode.code_hash)
                                 .where(RecoveryCode.user_id == user.id)).all()
        assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & set(stored)
        sealed = row.secret
    with db.session() as session:
        user, other = _user(session, "sealed"), _user(session, "other")
        later = pyotp.TOTP(started.secret).at(now + 30)
        with pytest.raises(KeyStoreError):  # a wrong passphrase opens nothing
            mfa.check_code(session, user, later, passphrase="wrong", now=now)
        # The sealed secret copied onto another user does not open there.
        session.add(TotpSecret(user_id=other.id, secret=sealed, confirmed_at=now))
        session.flush()
        with pytest.raises(KeyStoreError):
            mfa.check_code(session, other, later, passphrase=PASSPHRASE, now=now)
        session.rollback()
    with db.session() as session:
        user = _user(session, "sealed")
        assert mfa.check_code(session, user, later, passphrase=PASSPHRASE, now=now) == ("otp",)
        assert mfa.check_code(session, user, later, passphrase=PASSPHRASE, now=now) is None
        assert mfa.check_code(session, user, codes[3], passphrase=PASSPHRASE, now=now) == ("otp",)
        assert mfa.check_code(session, user, codes[3], passphrase=PASSPHRASE, now=now) is None
        with pytest.raises(mfa.BadInput):
            mfa.check_code(session, user, "not a code", passphrase=PASSPHRASE, now=now)
