"""The key lifecycle as rules on lists of keys, with no files and no clock of their own.

`next` (published, not signing) -> `current` (the one signing key) -> `retired` (published until
every token it signed has expired) -> pruned, or withdrawn at once when compromised. Each
algorithm has its own lifecycle: one current and one next key per algorithm in the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

NEXT, CURRENT, RETIRED = "next", "current", "retired"
STATES = (NEXT, CURRENT, RETIRED)


class KeyStoreError(Exception):
    """The key store cannot be used as it is; the message names the file and the problem."""


class RotationRefused(KeyStoreError):
    """Rotating now could break tokens or caches; the message says why and how long to wait."""


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    state: str
    alg: str
    created_at: float
    activated_at: float | None = None
    retired_at: float | None = None
    retires_at: float | None = None  # when a retired key may be pruned

    def to_manifest(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("retires_at")
        return {k: v for k, v in data.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "state": self.state,
            "alg": self.alg,
            "created_at": _iso(self.created_at),
            "activated_at": _iso(self.activated_at),
            "retired_at": _iso(self.retired_at),
            "retires_at": _iso(self.retires_at),
        }


@dataclass
class RotationResult:
    retired: str | None
    current: str
    next: str | None  # None in a dry run: the fresh key does not exist yet
    dry_run: bool = False
    forced: bool = False
    alg: str = "RS256"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PruneResult:
    pruned: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WithdrawResult:
    withdrawn: str
    state: str  # what the key was: retired or next
    new_next: str | None = None  # the fresh next key, when the next key was withdrawn

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def one(keys: list[KeyInfo], state: str, alg: str | None = None) -> KeyInfo:
    return next(k for k in keys if k.state == state and alg in (None, k.alg))


def algorithms_of(keys: list[KeyInfo]) -> list[str]:
    """The algorithms the store has keys of, in the order it first names them."""
    return list(dict.fromkeys(k.alg for k in keys))


def problems(keys: list[KeyInfo]) -> str | None:
    """What makes this list of keys not a store, or None."""
    for key in keys:
        if key.state not in STATES:
            return f"key {key.kid} has unknown state {key.state!r}"
    several = len(algorithms_of(keys)) > 1
    groups: list[str | None] = [*algorithms_of(keys)] or [None]
    for alg in groups:
        for state in (CURRENT, NEXT):
            count = sum(k.state == state and alg in (None, k.alg) for k in keys)
            if count != 1:
                kind = f"{state} {alg}" if several else state
                return f"must name exactly one {kind} key, it names {count}"
    return None


def with_retirement(key: KeyInfo, retire_after: float) -> KeyInfo:
    if key.retired_at is None:
        return key
    return replace(key, retires_at=key.retired_at + retire_after)


def check_rotation(keys: list[KeyInfo], alg: str, now: float, jwks_max_age: int,
                   force: bool) -> bool:
    """May the next key of `alg` start signing now? Returns whether that takes --force; raises
    RotationRefused while caches may not know the next key yet (its JWKS max-age)."""
    upcoming = one(keys, NEXT, alg)
    published_for = now - upcoming.created_at
    if published_for >= jwks_max_age:
        return False
    if not force:
        wait = int(jwks_max_age - published_for) + 1
        raise RotationRefused(
            f"the next {alg} key {upcoming.kid} has been published for {int(published_for)}s, "
            f"less than the JWKS cache lifetime ({jwks_max_age}s): caches may not "
            f"know it yet. Try again in {wait}s, or use --force."
        )
    return True


def rotated(keys: list[KeyInfo], fresh: KeyInfo, now: float) -> list[KeyInfo]:
    """next -> current, current -> retired, and `fresh` as the new next, for fresh's algorithm."""
    current, upcoming = one(keys, CURRENT, fresh.alg), one(keys, NEXT, fresh.alg)
    changed = {
        current.kid: replace(current, state=RETIRED, retired_at=now),
        upcoming.kid: replace(upcoming, state=CURRENT, activated_at=now),
    }
    return [changed.get(k.kid, k) for k in keys] + [fresh]


def prunable(keys: list[KeyInfo], now: float) -> list[KeyInfo]:
    """Retired keys whose every token has expired."""
    return [k for k in keys
            if k.state == RETIRED and k.retires_at is not None and k.retires_at <= now]


def withdrawable(keys: list[KeyInfo], kid: str, where: str) -> KeyInfo:
    """The key to withdraw; the current key must be rotated away first."""
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        raise KeyStoreError(f"no key {kid!r} in {where}")
    if key.state == CURRENT:
        raise KeyStoreError(
            f"{kid} is the current signing key: run `authserver keys rotate --force` "
            "first (it retires it and promotes the next key), then withdraw it"
        )
    return key
