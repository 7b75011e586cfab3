"""Second factors (INTERFACE.md "Two-factor sign-in"): a user's authenticator app (TOTP,
RFC 6238 through pyotp), recovery codes (made with the first app or passkey), and what an
operator lists and resets. The account page, the sign-in's steps and `authserver user mfa`
all call these.

A TOTP code is accepted once and a recovery code too: the store spends each with a conditional
UPDATE (store/second_factors.py), so two requests with one code cannot both pass.
"""

from __future__ import annotations

import base64
import hmac
import os
from dataclasses import dataclass
from typing import Any

import pyotp

from ..hashing import hash_secret
from ..keystore.sealing import seal, unseal
from ..models import Passkey, TotpSecret, User
from ..policy import AMR_OTP
from ..store import Session, second_factors
from ..store.rows import add, every, remove_where
from ..store.second_factors import PLAIN
from .errors import BadInput, Conflict

STEP = 30  # seconds (RFC 6238's default, what every authenticator app uses)
RECOVERY_CODES = 10


@dataclass(frozen=True)
class TotpSetUp:
    secret: str  # base32, shown as text beside the QR code
    uri: str     # otpauth://totp/... (the QR code's content)


def _seal(secret: str, user_id: int, passphrase: str | None) -> str:
    if not passphrase:
        return PLAIN + secret
    # The key store's sealing (scrypt + AES-GCM); the row's user as associated data, so a
    # sealed secret copied onto another user does not open.
    return seal(secret.encode(), passphrase.encode(), f"totp:{user_id}")


def _open(row: TotpSecret, passphrase: str | None) -> str:
    if row.secret.startswith(PLAIN):
        return row.secret[len(PLAIN):]
    if not passphrase:
        raise Conflict("the authenticator secrets are sealed: set AUTHSERVER_KEYS_PASSPHRASE")
    return unseal(row.secret, passphrase.encode(), f"totp:{row.user_id}").decode()


def _totp(session: Session, user: User) -> TotpSecret | None:
    return second_factors.totp_of(session, user.id)


def has_totp(session: Session, user: User) -> bool:
    row = _totp(session, user)
    return row is not None and row.confirmed_at is not None


def has_second_factor(session: Session, user: User) -> bool:
    """Whether the user has a second factor to be asked for (store/second_factors.py)."""
    return second_factors.has_second_factor(session, user.id)


def _uri(secret: str, user: User, issuer_host: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer_host)


def begin_totp(session: Session, user: User, *, issuer_host: str,
               passphrase: str | None) -> TotpSetUp:
    """A set-up in progress: a new secret, not a factor until confirm_totp. Shown again (the
    same secret) while it is in progress; refused when the user already has an app."""
    row = _totp(session, user)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("an authenticator app is already set up; remove it first")
    if row is None:
        secret = pyotp.random_base32()  # 160 bits, RFC 4226 §4's recommendation
        add(session, TotpSecret(user_id=user.id, secret=_seal(secret, user.id, passphrase)))
    else:
        secret = _open(row, passphrase)
    return TotpSetUp(secret, _uri(secret, user, issuer_host))


def _code_step(secret: str, code: str, now: int) -> int | None:
    """The time step (now ±1, RFC 6238 §5.2's allowance for clock drift) whose code this is.
    pyotp's verify() says only yes or no; the step is what makes a code single use, so the
    window is walked here with pyotp's generate_otp."""
    current = now // STEP
    totp = pyotp.TOTP(secret)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def normal_code(code: str) -> tuple[str, str]:
    """("totp", six digits) or ("recovery", its 16 letters and digits): what was typed, without
    spaces or dashes; BadInput when it is neither."""
    typed = "".join(code.split()).replace("-", "").lower()
    # ASCII digits only: isdigit() also takes other scripts' ("١٢٣٤٥٦"), which the apps never
    # show and hmac.compare_digest cannot compare (TypeError on non-ASCII text).
    if len(typed) == 6 and typed.isascii() and typed.isdigit():
        return "totp", typed
    if len(typed) == 16 and all(c in "abcdefghijklmnopqrstuvwxyz234567" for c in typed):
        return "recovery", typed
    raise BadInput("enter the 6-digit code from your app, or a recovery code", field="code")


def confirm_totp(session: Session, user: User, code: str, *, passphrase: str | None,
                 now: int) -> list[str]:
    """The set-up's first code: the app becomes a factor, and its 10 recovery codes are
    returned (to be shown once; any earlier ones are replaced)."""
    row = _totp(session, user)
    if row is None or row.confirmed_at is not None:
        raise Conflict("no authenticator set-up is in progress")
    kind, typed = normal_code(code)
    step = _code_step(_open(row, passphrase), typed, now) if kind == "totp" else None
    if step is None or not second_factors.spend_step(session, user.id, step):
        raise BadInput("that code is not the one your app shows now", field="code")
    second_factors.confirm_totp(session, user.id, now)
    return new_recovery_codes(session, user, now)


def new_recovery_codes(session: Session, user: User, now: int) -> list[str]:
    """Ten fresh codes (the old ones stop working); each 80 random bits in base32, shown as
    xxxx-xxxx-xxxx-xxxx."""
    codes = [base64.b32encode(os.urandom(10)).decode().lower() for _ in range(RECOVERY_CODES)]
    second_factors.replace_recovery_codes(session, user.id, [hash_secret(c) for c in codes], now)
    return ["-".join(code[i:i + 4] for i in range(0, 16, 4)) for code in codes]


def check_code(session: Session, user: User, code: str, *, passphrase: str | None,
               now: int) -> tuple[str, ...] | None:
    """A second factor typed at sign-in: its amr values when it is right and unused (and now
    spent), None when it is not. BadInput when it has no code's shape."""
    kind, typed = normal_code(code)
    if kind == "recovery":
        spent = second_factors.spend_recovery_code(session, user.id, hash_secret(typed), now)
        return (AMR_OTP,) if spent else None
    row = _totp(session, user)
    if row is None or row.confirmed_at is None:
        return None
    step = _code_step(_open(row, passphrase), typed, now)
    if step is None or not second_factors.spend_step(session, user.id, step):
        return None  # wrong, or already used (a replay)
    return (AMR_OTP,)


def recovery_codes_left(session: Session, user: User) -> int:
    return second_factors.recovery_codes_left(session, user.id)


def factors(session: Session, user: User) -> dict[str, Any]:
    """What `user mfa list` shows."""
    row = _totp(session, user)
    return {
        "username": user.username,
        "totp": ({"confirmed_at": row.confirmed_at}
                 if row is not None and row.confirmed_at is not None else None),
        "recovery_codes_left": second_factors.recovery_codes_left(session, user.id),
        "passkeys": [{"id": p.id, "name": p.name, "created_at": p.created_at}
                     for p in every(session, Passkey, "id", user_id=user.id)],
    }


def reset(session: Session, user: User) -> dict[str, Any]:
    """Removes every second factor (the authenticator app, a set-up in progress, recovery
    codes, passkeys): the user signs in with the password alone and may set them up again."""
    removed = factors(session, user)
    remove_where(session, Passkey, user_id=user.id)
    remove_totp(session, user)
    return removed


def remove_totp(session: Session, user: User) -> None:
    """The user's own removal at /account (after their password): the app, and its recovery
    codes unless a passkey is left, which they stand in for too."""
    second_factors.remove_totp(session, user.id)
    forget_codes_without_factor(session, user)


def forget_codes_without_factor(session: Session, user: User) -> None:
    """Recovery codes stand in for a second factor (the app or a passkey; they come with the
    first of either): with none left, they go too, and the next first factor brings new ones."""
    if not has_second_factor(session, user):
        second_factors.remove_recovery_codes(session, user.id)
