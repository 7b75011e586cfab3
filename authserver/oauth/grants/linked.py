"""What every grant does when it issues tokens: ask its extensions which API the access token
is for (resources.py, RFC 8707) and which DPoP key binds it (dpop.py, RFC 9449), tie a token
for a user to its grant, and record that it issued (the `token.issued` event, once the
server has committed the response).

Every token response for a user belongs to one grant: a refresh token family, started before
the access token is signed (whether or not refresh tokens come with it), and named in the
access token's `grant_id`. The server's own endpoints (userinfo, introspection) then stop
accepting the token once its grant is revoked: a replayed code, a reused refresh token, a
password change (OIDC conformance oidcc-codereuse-30seconds). APIs that validate tokens
locally cannot see that, and accept them until they expire. The family keeps the whole
grant (every scope, every resource); each access token carries one API's share of it, and the
roles of that API its subject holds now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ... import events
from ...models import User
from ...policy import GROUPS_SCOPE, machine_scope
from ...store.roles import Holdings
from ..access_tokens import issuing
from ..resources import Target


class IssuesTokens:
    """Mixed in before an Authlib grant class: wraps its generate_token. The token's API
    (`request.target`) and DPoP key (`request.dpop_jkt`) come from the grant's extensions,
    on its hooks: `before_issue_token` (the scope known, nothing signed or stored yet), then
    `before_start_grant` (a token for a user, before its grant is started)."""

    request: Any
    server: Any
    GRANT_TYPE: str | None
    _hooks: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        # Authlib keeps a grant's hooks in a set: here they run in the order the extensions
        # were registered, so which error a request with two faults gets never varies.
        self._hooks = defaultdict(list)

    def register_hook(self, hook_type: str, hook: Callable[..., Any]) -> None:
        hooks = self._hooks[hook_type]
        if hook not in hooks:
            hooks.append(hook)

    def grant_id_for(self, user: User, scope: str, resources: list[str], access_ttl: int) -> str:
        """A new grant; the refresh grant continues the one its token belongs to."""
        return self.server.start_grant(  # type: ignore[no-any-return]
            self.request, user, scope, resources, access_ttl)

    def holdings(self, user: User | None, target: Target) -> Holdings:
        """The roles of the token's API its subject holds (a user directly or through groups;
        else the client itself), and the user's groups when the `groups` scope is granted:
        read afresh for every token, so a change holds from the next one."""
        roles = self.server.store.roles
        audience = target.api.audience
        if user is None:
            return Holdings(roles=roles.for_client(self.request.client.id, audience))
        return roles.for_user(user.id, audience,
                              with_groups=GROUPS_SCOPE in target.scope.split())

    def generate_token(self, user: User | None = None, scope: str | None = None,
                       grant_type: str | None = None, expires_in: int | None = None,
                       include_refresh_token: bool = True) -> dict[str, Any]:
        client = self.request.client
        if not scope:  # RFC 6749 §3.3: the default is what the client may have
            scope = client.scope if user is not None else machine_scope(client.scope)
        # The token's API (resources.py), then its DPoP key (dpop.py).
        self.execute_hook("before_issue_token", user, scope)  # type: ignore[attr-defined]
        target: Target | None = getattr(self.request, "target", None)
        if target is None:
            raise RuntimeError("register ResourceIndicators on this grant (oauth/__init__.py)")
        jkt: str | None = getattr(self.request, "dpop_jkt", None)
        grant_id = None
        if user is not None:
            self.execute_hook("before_start_grant", user, scope)  # type: ignore[attr-defined]
            # A grant without refresh tokens lives as long as its access token: the chosen API's
            # lifetime when it has one of its own.
            access_ttl = target.api.access_token_ttl or self.server.settings.access_token_ttl
            grant_id = self.grant_id_for(user, scope, self.request.resources, access_ttl)
        holdings = self.holdings(user, target)
        self.request.user_groups = holdings.groups  # for the ID token (openid.py)
        token, self.request.signed = self.server.access_tokens.issue(
            grant_type or self.GRANT_TYPE, client, user,
            issuing(target, grant_id, jkt, holdings, getattr(self.request, "grant_started_at", None)),
            expires_in, include_refresh_token)
        return token  # type: ignore[no-any-return]

    def token_issued(self, body: dict[str, Any]) -> None:
        """The audit line of a token response the server has committed: what
        was issued to whom, identifiers only."""
        signed = getattr(self.request, "signed", None)
        events.record("token.issued", grant_type=self.request.payload.grant_type,
                      client_id=self.request.client.client_id,
                      address=getattr(self.request, "address", "-"), scope=body.get("scope"),
                      refresh_issued=bool(body.get("refresh_token")),
                      sub=signed and signed.sub, jti=signed and signed.jti,
                      kid=signed and signed.kid)
