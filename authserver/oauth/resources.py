"""Resource indicators (RFC 8707): which of the operator's APIs an access token is for, and which
of the granted scopes it carries. The rules are INTERFACE.md's ("Your own APIs"):

- `resource` must be a registered audience, else invalid_target; at the token endpoint at most
  one (several is invalid_target), at /oauth/authorize one or more, kept with the grant.
- Without it, the token's API is the one that owns the requested API scopes; API scopes of two
  APIs is invalid_target; no API scope at all means the default resource (the sample API).
- A scope asked for that does not belong to the named resource is invalid_scope.
- Every access token is for exactly one API: its audience, that API's granted scopes plus the
  OpenID scopes, its lifetime when set. A grant may cover several APIs; each refresh names one.

Written by hand: Authlib accepts `resource` but leaves its meaning to the server.
`ResourceIndicators` is the Authlib grant extension that applies these rules to a grant
(`register_grant(Grant, [ResourceIndicators(...), ...])`), reading the request from the grant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.util import scope_to_list

from ..policy import OPENID_SCOPES, shown
from ..resource_server import AccessTokenValidator
from ..store.apis import ApiInfo, ApiRegistry


class InvalidTarget(OAuth2Error):
    """RFC 8707 §2: the resource is unknown, or not one this request may name."""

    error = "invalid_target"
    status_code = 400


@dataclass(frozen=True)
class Target:
    api: ApiInfo
    scope: str


def resource_list(value: Any) -> list[str]:
    """The `resource` parameter of an authorization request: repeated in the query (kept as
    a list), or a string or an array inside a request object."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidTarget("resource must be a URI, or a list of them")


def _unknown(resource: str) -> InvalidTarget:
    return InvalidTarget(f"'{shown(resource)}' is not a registered API (resource)")


def grant_resources(registry: ApiRegistry, scope: str | None, named: list[str]) -> list[str]:
    """At authorization: the audiences a grant will cover. Those named (each registered, and
    every API scope asked for must belong to one of them), or without any, the APIs that own
    the API scopes asked for (the default resource when there are none)."""
    api_scopes = [s for s in scope_to_list(scope) or [] if s in registry.owners]
    for resource in named:
        if resource not in registry.apis:
            raise _unknown(resource)
    if named:
        for s in api_scopes:
            if registry.owners[s] not in named:
                raise InvalidScopeError(f"scope '{s}' does not belong to the resources named")
        return list(dict.fromkeys(named))
    owners = list(dict.fromkeys(registry.owners[s] for s in api_scopes))
    return owners or [registry.default]


def token_target(registry: ApiRegistry, scope: str | None, *, named: list[str],
                 explicit_scope: bool, grant: list[str] | None) -> Target:
    """The one API a token is for and the scope it carries. `scope` is what the request may
    have (asked for, or the grant's); `explicit_scope` says the client asked for it in this
    request; `grant` is the code's or refresh family's resources (None: any API)."""
    if len(named) > 1:
        raise InvalidTarget("a token is for one API: give at most one resource")
    scopes = scope_to_list(scope) or []
    openid = [s for s in scopes if s in OPENID_SCOPES]
    api_scopes = [s for s in scopes if s in registry.owners]  # a deleted API's scopes drop out
    if named:
        api = registry.apis.get(named[0])
        if api is None:
            raise _unknown(named[0])
        if grant is not None and api.audience not in grant:
            raise InvalidTarget(f"this grant does not cover the resource '{shown(named[0])}'")
        foreign = [s for s in api_scopes if s not in api.scope_names]
        if foreign and explicit_scope:
            raise InvalidScopeError(
                f"scope '{foreign[0]}' does not belong to the resource '{api.audience}'")
    else:
        owners = list(dict.fromkeys(registry.owners[s] for s in api_scopes))
        if len(owners) > 1:
            raise InvalidTarget("the scopes belong to several APIs: name one with resource")
        if owners:
            api = registry.apis[owners[0]]
        elif grant and len(grant) == 1 and grant[0] in registry.apis:
            api = registry.apis[grant[0]]
        else:
            api = registry.apis[registry.default]
    kept = [s for s in api_scopes if s in api.scope_names]
    return Target(api=api, scope=" ".join([*openid, *kept]))


def continued_resources(request: Any, registry: ApiRegistry) -> list[str] | None:
    """The resources of the grant a token request continues: the code's, the device
    approval's, the refresh token family's (one from before APIs were registered covers the
    default resource); None for a grant that starts here (client credentials, password)."""
    if request.authorization_code is not None:
        return request.authorization_code.resources or []
    if request.credential is not None:
        return request.credential.resources or []
    if request.refresh_token is not None:
        return request.refresh_token.family.resources or [registry.default]
    return None


def scope_was_asked(request: Any) -> bool:
    """Whether the token request's scope is the client's own ask (else the grant's): a code's
    or device approval's scope is theirs, a scope parameter beside it means nothing (RFC 6749
    §4.1.3)."""
    if request.authorization_code is not None or request.credential is not None:
        return False
    return request.payload.scope is not None


class ResourceIndicators:
    """The grant extension. At the authorization endpoint: the resources the grant will cover
    (`request.resources`). At the token endpoint, on the grant's `before_issue_token` hook
    (grants/linked.py): the one API the token is for and the scope it carries
    (`request.target`); on `before_start_grant`, what a new grant for a user covers
    (`request.resources`)."""

    def __init__(self, registry: Callable[[], ApiRegistry]) -> None:
        self.registry = registry  # the APIs as registered now (store.apis.registry)

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.at_authorization)
        grant.register_hook("before_issue_token", self.choose_target)
        grant.register_hook("before_start_grant", self.cover)

    def at_authorization(self, grant: Any, _result: None) -> None:
        # After Authlib's scope checks: an OpenID request's scope is the one it kept.
        data = grant.request.payload.data
        grant.request.resources = grant_resources(self.registry(), data.get("scope"),
                                                  resource_list(data.get("resource")))

    def choose_target(self, grant: Any, user: Any, scope: str) -> None:
        request = grant.request
        registry = self.registry()
        request.target = token_target(
            registry, scope, named=list(request.payload.datalist.get("resource", [])),
            explicit_scope=scope_was_asked(request),
            grant=continued_resources(request, registry))

    def cover(self, grant: Any, user: Any, scope: str) -> None:
        request = grant.request
        registry = self.registry()
        covered = continued_resources(request, registry)
        request.resources = covered if covered is not None else grant_resources(
            registry, scope, list(request.payload.datalist.get("resource", [])))


class OurApisValidator(AccessTokenValidator):
    """The server's own endpoints (userinfo, introspection, revocation) take a token for any
    registered API: each API checks its own audience, these endpoints serve them all."""

    def __init__(self, *args: Any, registry: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry  # () -> ApiRegistry

    def accepts_audience(self, audience: Any) -> bool:
        apis = self.registry().apis
        if isinstance(audience, list):
            return any(isinstance(a, str) and a in apis for a in audience)
        return isinstance(audience, str) and audience in apis
