"""The registration options `client create` and `client update` share: declared once, so an
option added to METADATA_OPTIONS is on both commands, with the same meaning and checks.

Each option's Python name is the field of store.clients.Metadata it sets. Every default is
None (or an empty tuple for a repeatable option): "not given", so that `client update` changes
only what it is given and `client create` uses Metadata's defaults. A repeatable option
replaces the whole list; one empty value (`--allowed-origin ''`) empties it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..policy import SIGNING_ALGS, SUPPORTED_AUTH_METHODS, SUPPORTED_GRANT_TYPES

F = TypeVar("F", bound=Callable[..., Any])

REPLACES = "Repeatable; on update it replaces the whole list ('' alone empties it)."

METADATA_OPTIONS: list[Callable[[F], F]] = [
    click.option("--grant-type", "grant_types", multiple=True,
                 type=click.Choice(SUPPORTED_GRANT_TYPES),
                 help="Allowed grant type. Repeatable; on update it replaces the whole list. "
                      "New clients: client_credentials."),
    click.option("--scope", default=None,
                 help='Allowed scopes, space-separated, e.g. "profile notes:read": OpenID '
                      "scopes and scopes of registered APIs (`authserver api list`); on update "
                      "it replaces the whole scope."),
    click.option("--redirect-uri", "redirect_uris", multiple=True,
                 help=f"Registered redirect URI, matched exactly. {REPLACES}"),
    click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True,
                 help=f"Where logout may return the browser to, matched exactly. {REPLACES}"),
    click.option("--backchannel-logout-uri", default=None,
                 help="Where logout tokens are POSTed when the user's session ends (https); "
                      "'' removes it."),
    click.option("--allowed-origin", "allowed_origins", multiple=True,
                 help="A web origin (https://app.example.com) whose pages may call the token, "
                      "userinfo, revocation, device and API endpoints (CORS), besides the "
                      f"origins of the redirect URIs. {REPLACES}"),
    click.option("--auth-method", type=click.Choice(SUPPORTED_AUTH_METHODS), default=None,
                 help="Token endpoint authentication method; 'none' makes a public client. "
                      "New clients: client_secret_basic. A change to a secret method prints "
                      "a new secret."),
    click.option("--jwks", "jwks", type=click.File("r"), default=None,
                 help="JSON file with the client's public JWK Set (for private_key_jwt and "
                      "signed request objects); on update it replaces the keys."),
    click.option("--require-par/--no-require-par", default=None,
                 help="Accept its authorization requests only pushed to /oauth/par (RFC 9126)."),
    click.option("--require-mfa/--no-require-mfa", default=None,
                 help="Its sign-ins need two factors (acr 2): a user without a second factor "
                      "sets up an authenticator app during the sign-in."),
    click.option("--dpop-bound/--no-dpop-bound", default=None,
                 help="Issue it only DPoP-bound tokens: every token request needs a proof "
                      "(RFC 9449)."),
    click.option("--id-token-signed-response-alg", "id_token_signed_response_alg",
                 type=click.Choice(SIGNING_ALGS), default=None,
                 help="The algorithm of its ID tokens and logout tokens, one of "
                      "AUTHSERVER_SIGNING_ALGS (default: the first of them)."),
]


def metadata_options(command: F) -> F:
    """Put every shared option on a command, in METADATA_OPTIONS' order in its --help."""
    for option in reversed(METADATA_OPTIONS):
        command = option(command)
    return command


def given_metadata(options: dict[str, Any]) -> dict[str, Any]:
    """The Metadata fields the operator gave (what was not given is left out): lists from
    repeated options, the JWK Set read from its file, '' as "none"."""
    given: dict[str, Any] = {}
    for name, value in options.items():
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            given[name] = [] if value == ("",) else list(value)
        elif name == "jwks":
            given[name] = _read_jwks(value)
        elif value == "" and name != "scope":
            given[name] = None
        else:
            given[name] = value
    return given


def _read_jwks(file: Any) -> Any:
    try:
        return json.load(file)
    except ValueError as exc:
        raise click.UsageError(f"--jwks is not JSON: {exc}") from None
