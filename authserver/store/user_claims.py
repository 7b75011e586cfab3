"""The OpenID Connect standard claims a user may have (OIDC Core §5.1), each checked for what
the specification says it is: an email is an email, a birthdate a date, an address an object
of §5.1.1 members. `name` and `email` live in their own columns; the rest in `users.claims`.

Written by hand: Authlib's UserInfo holds claims but checks none of them.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from ..models import User

MAX_TEXT = 200
MAX_EMAIL = 320  # RFC 3696 §3
ADDRESS_MEMBERS = ("formatted", "street_address", "locality", "region", "postal_code",
                   "country")
_BIRTHDATE = re.compile(r"\d{4}(-\d{2}-\d{2})?")  # §5.1: YYYY-MM-DD, or YYYY alone
_LOCALE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")  # BCP 47, e.g. en-US
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{2,30}(;ext=[0-9]{1,10})?")  # §5.1: E.164 recommended
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class ClaimError(ValueError):
    """A claim value that is not what OIDC Core §5.1 says it is; the message names it."""


def _text(name: str, raw: str) -> str:
    if len(raw) > MAX_TEXT or not raw.isprintable() or not raw.strip():
        raise ClaimError(f"{name} must be 1-{MAX_TEXT} printable characters (no newline or "
                         "control characters)")
    return raw


def _email(name: str, raw: str) -> str:
    if len(raw) > MAX_EMAIL or not _EMAIL.fullmatch(raw):
        raise ClaimError(f"{name} must be an email address, got {raw!r}")
    return raw


def _url(name: str, raw: str) -> str:
    try:
        parts = urlsplit(raw)
    except ValueError:  # a malformed IPv6 host, say: urlsplit refuses it itself
        raise ClaimError(f"{name} must be an absolute http(s) URL, got {raw!r}") from None
    if parts.scheme not in ("https", "http") or not parts.netloc or not raw.isprintable():
        raise ClaimError(f"{name} must be an absolute http(s) URL, got {raw!r}")
    return raw


def _boolean(name: str, raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise ClaimError(f"{name} must be true or false, got {raw!r}")
    return raw.lower() == "true"


def _birthdate(name: str, raw: str) -> str:
    if not _BIRTHDATE.fullmatch(raw):
        raise ClaimError(f"{name} must be YYYY-MM-DD (or YYYY), got {raw!r}")
    if len(raw) == 10:
        year, month, day = (int(part) for part in raw.split("-"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise ClaimError(f"{name} {raw!r} is not a date")
    return raw


def _zoneinfo(name: str, raw: str) -> str:
    if raw not in zoneinfo.available_timezones():
        raise ClaimError(f"{name} must be a time zone of the IANA database, e.g. Europe/Paris")
    return raw


def _pattern(pattern: re.Pattern[str], what: str) -> Callable[[str, str], str]:
    def check(name: str, raw: str) -> str:
        if not pattern.fullmatch(raw):
            raise ClaimError(f"{name} must be {what}, got {raw!r}")
        return raw

    return check


def _address(name: str, raw: str) -> dict[str, str]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise ClaimError(f"{name} must be a JSON object (OIDC Core §5.1.1)") from None
    if not isinstance(value, dict) or not value:
        raise ClaimError(f"{name} must be a JSON object (OIDC Core §5.1.1)")
    for member, text in value.items():
        if member not in ADDRESS_MEMBERS:
            raise ClaimError(f"{name} has no member {member!r}; it has {', '.join(ADDRESS_MEMBERS)}")
        if not isinstance(text, str) or len(text) > 500:
            raise ClaimError(f"{name}.{member} must be a string of at most 500 characters")
    return value


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "name": _text, "given_name": _text, "family_name": _text, "middle_name": _text,
    "nickname": _text, "gender": _text,
    "profile": _url, "picture": _url, "website": _url,
    "birthdate": _birthdate, "zoneinfo": _zoneinfo,
    "locale": _pattern(_LOCALE, "a BCP 47 language tag such as en-US"),
    "email": _email,
    "email_verified": _boolean,
    "phone_number": _pattern(_PHONE, "a phone number, e.g. +1 (425) 555-1212"),
    "phone_number_verified": _boolean,
    "address": _address,
}


def parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    """NAME=VALUE pairs from the command line: a checked value per claim; an empty VALUE is
    None (remove the claim)."""
    parsed: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, raw = assignment.partition("=")
        if not sep:
            raise ClaimError(f"--claim takes NAME=VALUE, got {assignment!r}")
        if name in parsed:
            raise ClaimError(f"the claim {name!r} is given twice")
        parsed[name] = check_claim(name, raw)
    return parsed


def check_claim(name: str, raw: str) -> Any:
    """One claim's value as the CLI and the administration API give it (text; "" removes it):
    checked, or a ClaimError naming the claim."""
    if name not in PARSERS:
        raise ClaimError(f"{name!r} is not a standard claim that can be set; these can: "
                         f"{', '.join(sorted(PARSERS))}")
    return PARSERS[name](name, raw) if raw != "" else None


def apply(user: User, claims: dict[str, Any], now: int) -> None:
    """Set (or, for None, remove) the claims, and updated_at (OIDC Core §5.1)."""
    stored = dict(user.claims or {})
    # The address first: a new one is unverified, unless this same change says otherwise.
    for name, value in sorted(claims.items(), key=lambda item: item[0] != "email"):
        if name == "name":
            user.name = value
        elif name == "email":
            if value != user.email:
                user.email_verified = False  # a new address is not verified yet
                stored.pop("email_verified", None)
            user.email = value
        elif name == "email_verified":
            user.email_verified = bool(value)
        elif value is None:
            stored.pop(name, None)
        else:
            stored[name] = value
    if claims:
        stored["updated_at"] = now
    user.claims = stored


def claims_of(user: User) -> dict[str, Any]:
    """Every standard claim the user has, by name."""
    found: dict[str, Any] = {"preferred_username": user.username, **(user.claims or {})}
    if user.name:
        found["name"] = user.name
    if user.email:
        found["email"] = user.email
        # Verified by a mailed link (or the operator's word: user create --email-verified).
        # (Before the column, the operator's word was kept among the claims.)
        found["email_verified"] = bool(user.email_verified or found.get("email_verified") is True)
    return found
