"""The `claims` request parameter (OIDC Core §5.5): individual claims asked for the ID token
and for userinfo, beside what the scopes bring.

Written by hand: Authlib parses no `claims` parameter. What is kept is only what can be
answered: standard claims (§5.1) whose scope the client may have, plus acr and auth_time;
anything else asked for is left out, never an error (§5.5: a claim "not available" is simply
not returned). An essential acr the server cannot meet is the one refusal (§5.5.1.1). A
`sub` asked for by value names the only end-user the answer may be for (§3.1.2.2).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import scope_to_list

from ..policy import ACR_VALUES_SUPPORTED, SCOPE_CLAIMS
from ..resource_server import untrusted

# Where requested claims are returned (§5.5): the ID token, and the userinfo response.
TARGETS = ("id_token", "userinfo")
# Claims of the authentication itself, always answerable.
AUTHENTICATION_CLAIMS = ("acr", "auth_time")
# Where the wanted claims keep an essential acr's values (beside the targets' names): the
# sign-in must reach one of them (web/assurance.py) and the ID token answers with one.
ESSENTIAL_ACR = "essential_acr"
# Which scope brings each standard claim.
CLAIM_SCOPE = {name: scope for scope, names in SCOPE_CLAIMS.items() for name in names}


class UnmetAuthenticationRequirements(InvalidRequestError):
    """OpenID Connect Core Unmet Authentication Requirements 1.0 §2."""

    error = "unmet_authentication_requirements"


def parse_claims_request(raw: Any, client_scope: str) -> dict[str, list[str]] | None:
    """The claim names asked for, by target ({"id_token": [...], "userinfo": [...]}), kept to
    those this client may receive; None when there is no claims parameter. `raw` is the
    parameter's JSON text, or the object itself when it came inside a request object."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = untrusted.loads(raw)
        except ValueError:
            raise InvalidRequestError("the claims parameter is not JSON") from None
    if not isinstance(raw, dict):
        raise InvalidRequestError("the claims parameter must be a JSON object")
    allowed_scopes = set(scope_to_list(client_scope) or [])
    wanted: dict[str, list[str]] = {}
    essential: list[str] = []
    for target in TARGETS:
        members = raw.get(target)
        if members is None:
            continue
        if not isinstance(members, dict):
            raise InvalidRequestError(f"claims.{target} must be a JSON object")
        names = []
        for name, request in members.items():
            if request is not None and not isinstance(request, dict):
                raise InvalidRequestError(f"claims.{target}.{name} must be null or an object")
            essential += _check_acr(name, request)
            if name in AUTHENTICATION_CLAIMS or CLAIM_SCOPE.get(name) in allowed_scopes:
                names.append(name)
        wanted[target] = names
    if essential:
        wanted[ESSENTIAL_ACR] = list(dict.fromkeys(essential))
    return wanted


def requested_subject(raw: Any) -> str | None:
    """The end-user the request asks for by `sub` value (§3.1.2.2: "the Authorization Server
    MUST only send a positive response if the End-User identified by that sub value has an
    active session ... MUST NOT reply with an ID Token or Access Token for a different user"),
    in the ID token's or userinfo's claims; None when none is. A claims parameter that is not
    JSON is parse_claims_request's to refuse."""
    if isinstance(raw, str):
        try:
            raw = untrusted.loads(raw)
        except ValueError:
            return None
    if not isinstance(raw, dict):
        return None
    values = set()
    for target in TARGETS:
        members = raw.get(target)
        request = members.get("sub") if isinstance(members, dict) else None
        if isinstance(request, dict) and "value" in request:
            if not isinstance(request["value"], str):
                raise InvalidRequestError(f"claims.{target}.sub.value must be a string")
            values.add(request["value"])
    if len(values) > 1:
        raise InvalidRequestError("the claims parameter asks for two different sub values")
    return values.pop() if values else None


def _check_acr(name: str, request: dict[str, Any] | None) -> list[str]:
    """§5.5.1.1: an essential acr whose values this server has no level for fails the
    authentication; the values of one it has (whether this user reaches them is the sign-in's
    question: web/assurance.py)."""
    if name != "acr" or not request or not request.get("essential"):
        return []
    values = request.get("values", [request["value"]] if "value" in request else None)
    if values is not None and not (isinstance(values, list)
                                   and all(isinstance(v, str) for v in values)):
        # §5.5.1: "value" is a string, "values" an array of them.
        raise InvalidRequestError("claims acr value must be a string, values a list of them")
    if values is None:
        return []  # any acr will do
    known = [value for value in values if value in ACR_VALUES_SUPPORTED]
    if not known:
        raise UnmetAuthenticationRequirements(
            "this server authenticates at acr " + ", ".join(ACR_VALUES_SUPPORTED) + " only")
    return known


def scopes_for(claims: dict[str, list[str]] | None) -> set[str]:
    """The scopes whose consent covers the claims asked for: the consent page asks for them."""
    names = (name for target, members in (claims or {}).items() if target != ESSENTIAL_ACR
             for name in members)
    return {CLAIM_SCOPE[name] for name in names if name in CLAIM_SCOPE}
