"""Device authorizations (RFC 8628): device and user codes stored hashed, each decided once at
/device, each approved one claimed once by the polling device."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from ..db import rows_changed
from ..hashing import hash_secret, new_secret
from ..models import DeviceAuthorization, User

if TYPE_CHECKING:
    from . import Store

# RFC 8628 §6.1: 20 consonants (no vowels, so no words; no 0/O or 1/I to confuse), 8 of them:
# 34.5 bits, shown as XXXX-XXXX and read case-insensitively, dashes and spaces ignored.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
# RFC 8628 §3.5: slow_down adds 5 seconds to the interval, for good.
SLOW_DOWN_STEP = 5


def new_user_code() -> str:
    code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def normalize_user_code(raw: str) -> str | None:
    """The code as typed, made canonical; None when it cannot be one of ours."""
    code = "".join(raw.split()).replace("-", "").upper()
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


class Devices:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, *, client_id: str, scope: str, resources: list[str], ttl: int,
               interval: int) -> tuple[str, str]:
        """A new request; returns its device code and its user code (shown once each)."""
        device_code, user_code = new_secret(32), new_user_code()
        now = self.store.now()
        self.store.begin_write().add(DeviceAuthorization(
            device_code_hash=hash_secret(device_code),
            user_code_hash=hash_secret(normalize_user_code(user_code) or ""),
            client_id=client_id, scope=scope, resources=resources, status="pending",
            interval=interval, created_at=now, expires_at=now + ttl))
        return device_code, user_code

    def by_device_code(self, device_code: str) -> DeviceAuthorization | None:
        return self.store.session().scalar(select(DeviceAuthorization).where(
            DeviceAuthorization.device_code_hash == hash_secret(device_code)))

    def get(self, device_id: int) -> DeviceAuthorization | None:
        return self.store.session().get(DeviceAuthorization, device_id)

    def pending(self, user_code: str) -> DeviceAuthorization | None:
        """The live, undecided request of this user code (typed any way), if there is one."""
        code = normalize_user_code(user_code)
        if code is None:
            return None
        return self.store.session().scalar(select(DeviceAuthorization).where(
            DeviceAuthorization.user_code_hash == hash_secret(code),
            DeviceAuthorization.status == "pending",
            DeviceAuthorization.expires_at > self.store.now()))

    def decide(self, device: DeviceAuthorization, user: User, auth_time: int,
               approved: bool, amr: str | None = None) -> bool:
        """The user's answer, once: False if it was decided (or expired) meanwhile."""
        result = self.store.begin_write().execute(
            update(DeviceAuthorization)
            .where(DeviceAuthorization.id == device.id, DeviceAuthorization.status == "pending",
                   DeviceAuthorization.expires_at > self.store.now())
            .values(status="approved" if approved else "denied", user_id=user.id,
                    auth_time=auth_time, amr=amr)
            .execution_options(synchronize_session=False))
        return rows_changed(result) == 1

    def poll(self, device: DeviceAuthorization) -> bool:
        """Record a poll of a pending request; True when it came too soon (slow_down, and the
        interval grows). Committed at once: the answer is an error, whose request rolls back."""
        now = self.store.now()
        too_soon = device.last_polled_at is not None and now - device.last_polled_at < device.interval
        self.store.begin_write().execute(
            update(DeviceAuthorization).where(DeviceAuthorization.id == device.id)
            .values(last_polled_at=now,
                    interval=device.interval + SLOW_DOWN_STEP if too_soon else device.interval)
            .execution_options(synchronize_session=False))
        self.store.commit()
        return too_soon

    def claim(self, device: DeviceAuthorization) -> bool:
        """Take an approved request for its tokens, once (two polls at once: one wins)."""
        result = self.store.begin_write().execute(
            update(DeviceAuthorization)
            .where(DeviceAuthorization.id == device.id, DeviceAuthorization.status == "approved")
            .values(status="used")
            .execution_options(synchronize_session=False))
        return rows_changed(result) == 1
