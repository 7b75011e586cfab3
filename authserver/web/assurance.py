"""How strong a sign-in a pending request needs, and what the user must do for it
(INTERFACE.md "Two-factor sign-in": acr 1, 2 and phr; phr satisfies 2, 2 satisfies 1).

- An essential `acr` in the claims parameter (OIDC Core §5.5.1.1) must be met: its lowest
  value is asked for; a user who cannot reach it gets `unmet_authentication_requirements`.
- A client registered with --require-mfa, or AUTHSERVER_REQUIRE_MFA=1, needs 2; a user
  without a second factor sets up an authenticator app during the sign-in.
- The account pages (web/account.py) are no client: with AUTHSERVER_REQUIRE_MFA they need 2
  as an authorization does, whoever made the sign-in (`account_verdict`).
- `acr_values` (§3.1.2.1) is voluntary: its first value the server knows is asked for when
  the user can reach it (a missing factor is asked for), else the sign-in goes on as it is.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from .. import context
from ..models import User
from ..oauth.claims_request import ESSENTIAL_ACR
from ..operations import mfa
from ..policy import (
    ACR_PASSWORD,
    ACR_PHISHING_RESISTANT,
    ACR_RANK,
    ACR_TWO_FACTORS,
    ACR_VALUES_SUPPORTED,
    acr_level,
    satisfies,
)
from .passkey_ceremony import relying_party


class Verdict(Enum):
    MET = "met"
    ASK = "ask"        # the user has the missing factor: ask for it
    SET_UP = "set_up"  # two factors needed and the user has none: set one up now
    UNMET = "unmet"    # an essential acr this user cannot reach


def _lowest(values: list[str]) -> str | None:
    known = [value for value in values if value in ACR_RANK]
    return min(known, key=lambda value: ACR_RANK[value]) if known else None


def mfa_required(validated: Any) -> bool:
    return bool(context.settings().require_mfa or getattr(validated.client, "require_mfa", False))


def mandatory(validated: Any) -> str | None:
    """The level the request must get: an essential acr's lowest value, or 2 for a client
    that requires two factors (the stronger of the two)."""
    claims = getattr(validated, "claims", None) or {}
    levels = [_lowest(claims.get(ESSENTIAL_ACR) or []),
              ACR_TWO_FACTORS if mfa_required(validated) else None]
    known = [level for level in levels if level is not None]
    return max(known, key=lambda level: ACR_RANK[level]) if known else None


def voluntary(validated: Any) -> str | None:
    """acr_values' preferred level (its first value the server has)."""
    wanted = (validated.parameters.get("acr_values") or "").split()
    return next((value for value in wanted if value in ACR_VALUES_SUPPORTED), None)


def reachable(user: User) -> str:
    """The highest level this user can sign in at now: phr with a passkey that works here."""
    if relying_party() is not None and context.store().passkeys.count(user):
        return ACR_PHISHING_RESISTANT
    has = mfa.has_totp(context.store().session(), user)
    return ACR_TWO_FACTORS if has else ACR_PASSWORD


def second_step_due(user: User) -> bool:
    """Whether a password alone is not a sign-in for this user: they hold a second factor
    that works here (an authenticator app, or a passkey while passkeys work at this issuer;
    one that cannot be used here is not asked for, so nobody is locked out by the issuer)."""
    return reachable(user) != ACR_PASSWORD


def verdict(validated: Any, user: User, amr: str | None, *, can: str | None = None) -> Verdict:
    """What a sign-in made with `amr` still needs for this request. `can`: reachable(user),
    when the caller has it already (each asking is a query)."""
    level = acr_level(amr)
    can = can or reachable(user)
    must = mandatory(validated)
    if must is not None and not satisfies(level, must):
        if satisfies(can, must):
            return Verdict.ASK
        if must == ACR_TWO_FACTORS and can == ACR_PASSWORD and mfa_required(validated):
            return Verdict.SET_UP
        return Verdict.UNMET
    wish = voluntary(validated)
    if wish is not None and not satisfies(level, wish) and ACR_RANK[can] > ACR_RANK[level]:
        return Verdict.ASK
    return Verdict.MET


def account_verdict(user: User, amr: str | None) -> Verdict:
    """What the account pages need of a sign-in made with `amr`: with AUTHSERVER_REQUIRE_MFA,
    two factors, as every authorization then does, so a one-factor sign-in (a passkey that
    did not verify the user, another provider's) is stepped up before any account page; else
    any sign-in."""
    if not context.settings().require_mfa or satisfies(acr_level(amr), ACR_TWO_FACTORS):
        return Verdict.MET
    return Verdict.ASK if second_step_due(user) else Verdict.SET_UP
