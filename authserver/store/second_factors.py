"""A user's second factors as stored: whether they have one (the one question the protocol asks
of them: the password grant refuses such a user), and the authenticator app's secret, its
spent time steps and the recovery codes. The rules (codes, sealing, set-up) are
operations/mfa.py's.

A TOTP code is accepted once: its time step is written with a conditional UPDATE ("only if later
than the last one"), so two requests with one code cannot both pass. A recovery code is spent
the same way.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..keystore.lifecycle import KeyStoreError
from ..keystore.sealing import seal, unseal
from ..models import Passkey, RecoveryCode, TotpSecret

PLAIN = "plain$"  # a secret stored without a passphrase (as the key store's files are then)

# Built once: every sign-in and password grant asks these (a statement made per call is built
# and keyed each time).
_TOTP_OF = select(TotpSecret).where(TotpSecret.user_id == bindparam("user_id"))
_CONFIRMED_TOTP = select(TotpSecret.user_id).where(TotpSecret.user_id == bindparam("user_id"),
                                                   TotpSecret.confirmed_at.is_not(None))
_A_PASSKEY = select(Passkey.id).where(Passkey.user_id == bindparam("user_id")).limit(1)


def has_second_factor(session: Session, user_id: int) -> bool:
    """A confirmed authenticator app or a passkey (INTERFACE.md: a passkey is accepted as the
    second factor, so holding one means the password alone is not enough)."""
    if session.scalar(_CONFIRMED_TOTP, {"user_id": user_id}) is not None:
        return True
    return session.scalar(_A_PASSKEY, {"user_id": user_id}) is not None


def totp_of(session: Session, user_id: int) -> TotpSecret | None:
    return session.scalar(_TOTP_OF, {"user_id": user_id})


def spend_step(session: Session, user_id: int, step: int) -> bool:
    """The app's time step `step` used now; False when it (or a later one) was used already."""
    result = session.execute(
        update(TotpSecret)
        .where(TotpSecret.user_id == user_id,
               or_(TotpSecret.last_step.is_(None), TotpSecret.last_step < step))
        .values(last_step=step).execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def confirm_totp(session: Session, user_id: int, now: int) -> None:
    session.execute(update(TotpSecret).where(TotpSecret.user_id == user_id)
                    .values(confirmed_at=now).execution_options(synchronize_session=False))


def replace_recovery_codes(session: Session, user_id: int, hashes: list[str], now: int) -> None:
    """The user's recovery codes are these (hashed) from now on; the old ones are gone."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=code_hash, created_at=now)
                    for code_hash in hashes)


def spend_recovery_code(session: Session, user_id: int, code_hash: str, now: int) -> bool:
    """The unused recovery code with this hash used now; False when there is none."""
    spent = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None),
               RecoveryCode.code_hash == code_hash)
        .values(used_at=now).execution_options(synchronize_session=False))
    return bool(spent.rowcount)  # type: ignore[attr-defined]


def recovery_codes_left(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0)


def remove_totp(session: Session, user_id: int) -> None:
    """The authenticator app (or its set-up in progress); its recovery codes are
    remove_recovery_codes' (operations/mfa.py keeps them while a passkey is left)."""
    session.execute(delete(TotpSecret).where(TotpSecret.user_id == user_id))


def remove_recovery_codes(session: Session, user_id: int) -> None:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


def reseal_totp_secrets(conn: Connection, old: bytes, new: bytes) -> int:
    """`keys rekey`: every sealed authenticator secret sealed again with the new passphrase,
    on the rekey's connection (its transaction: one that does not open fails it all). A
    secret stored without a passphrase (plain$) stays as it is."""
    rows = conn.execute(select(TotpSecret.user_id, TotpSecret.secret)
                        .where(TotpSecret.secret.not_like(PLAIN + "%"))).all()
    for row in rows:
        bound = f"totp:{row.user_id}"
        try:
            secret = unseal(row.secret, old, bound)
        except KeyStoreError:
            raise KeyStoreError(f"cannot open the authenticator app secret of user id "
                                f"{row.user_id} with AUTHSERVER_KEYS_PASSPHRASE: nothing was "
                                "resealed (reset that user's app: `user mfa reset`)") from None
        conn.execute(update(TotpSecret).where(TotpSecret.user_id == row.user_id)
                     .values(secret=seal(secret, new, bound)))
    return len(rows)
