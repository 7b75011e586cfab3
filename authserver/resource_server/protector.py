"""The Flask side of a resource server: a protector that answers per RFC 6750 §3, and the
factories another service uses with nothing but the issuer URL."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, NoReturn

from authlib.integrations.flask_oauth2 import ResourceProtector, token_authenticated
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError
from authlib.oauth2.rfc6750 import BearerTokenValidator, InsufficientScopeError
from flask import Response, abort, g
from flask import json as flask_json
from flask import request as flask_request

from .dpop import PROOF_ALGS
from .keys import KeySource, RemoteIssuerKeys
from .validator import VERIFIED_CACHE_SIZE, AccessTokenValidator, InvalidDPoPProof


class BearerProtector(ResourceProtector):
    """Authlib's Flask protector with RFC 6750 §3 responses: a bare challenge when the request
    carries no Bearer token, JSON error bodies, never a 500. `on_failure(reason)` is told of
    every refusal (the server counts them in its metrics). A validator registered on it is
    handed a request object with `headers` only."""

    def __init__(self, on_failure: Callable[[str], None] | None = None,
                 public_url: Callable[[], str] | None = None) -> None:
        super().__init__()
        self.on_failure = on_failure
        # The URL a DPoP proof's htu must name: the request's own (behind a proxy, give the
        # public one, or use werkzeug's ProxyFix).
        self.public_url = public_url or (lambda: flask_request.base_url)

    def register_token_validator(self, validator: Any) -> None:
        """Registered for the Bearer scheme and for DPoP (RFC 9449 §7): the validator tells
        which each token may use."""
        super().register_token_validator(validator)
        super().register_token_validator(_DPoPScheme(validator))

    def acquire_token(self, scopes: Any = None, **kwargs: Any) -> Any:
        # As Authlib's, but the validators are given only the request's headers: Authlib wraps
        # the whole request first (URL, body), which cost more than verifying the signature.
        kwargs["scopes"] = scopes
        for claim, value in kwargs.items():
            if isinstance(value, str):
                kwargs[claim] = [value]
        token = self.validate_request(request=_BearerRequest(
            flask_request.headers, flask_request.method, self.public_url), **kwargs)
        token_authenticated.send(self, token=token)
        g.authlib_server_oauth2_token = token
        return token

    def raise_error_response(self, error: OAuth2Error) -> NoReturn:
        if self.on_failure is not None:
            self.on_failure(_reason(error))
        headers = dict(error.get_headers())
        if isinstance(error, InvalidDPoPProof) or _scheme(flask_request.headers) == "dpop":
            # RFC 9449 §7.1: the DPoP challenge, with the algorithms a proof may use.
            headers["WWW-Authenticate"] = (f'DPoP error="{error.error}", '
                                           f'algs="{" ".join(PROOF_ALGS)}"')
            nonce = getattr(error, "nonce", None)
            if nonce:
                headers["DPoP-Nonce"] = nonce  # §9: the nonce to use
            body = dict(error.get_body())
        elif isinstance(error, (MissingAuthorizationError, UnsupportedTokenTypeError)):
            # §3.1: no authentication information -> no error code in the challenge.
            headers["WWW-Authenticate"] = "Bearer"
            body = {"error": "invalid_request",
                    "error_description": "send the access token as 'Authorization: Bearer <token>'"}
        else:
            body = dict(error.get_body())
        headers["Content-Type"] = "application/json"
        headers["Cache-Control"] = "no-store"
        # abort(response): Flask passes it through unchanged, past any error handler of the
        # service's own (a 401 page must not replace the RFC 6750 challenge).
        abort(Response(flask_json.dumps(body), status=error.status_code, headers=headers))


class _BearerRequest:
    """What a token check reads of a request (RFC 6750 §2.1): its headers; and for a DPoP
    proof (RFC 9449 §4.3) its method, URL and the scheme the token came with."""

    def __init__(self, headers: Any, method: str, url_of: Callable[[], str]) -> None:
        self.headers = headers
        self.method = method
        self._url_of = url_of
        self.scheme = _scheme(headers)

    @cached_property
    def url(self) -> str:
        return self._url_of()  # only a DPoP proof needs it: a Bearer request never builds it


def _scheme(headers: Any) -> str:
    return str(headers.get("Authorization", "")).split(" ", 1)[0].lower()


class _DPoPScheme(BearerTokenValidator):
    """The same validator, for tokens sent with `Authorization: DPoP`."""

    TOKEN_TYPE = "dpop"

    def __init__(self, validator: Any) -> None:
        super().__init__()
        self.validator = validator

    def authenticate_token(self, token_string: str) -> Any:
        return self.validator.authenticate_token(token_string)

    def validate_token(self, token: Any, scopes: Any, request: Any, **kwargs: Any) -> None:
        self.validator.validate_token(token, scopes, request, **kwargs)


def _reason(error: OAuth2Error) -> str:
    if isinstance(error, MissingAuthorizationError):
        return "missing"
    if isinstance(error, UnsupportedTokenTypeError):
        return "wrong_scheme"
    if isinstance(error, InsufficientScopeError):
        return "insufficient_scope"
    return str(getattr(error, "reason", error.error))


def create_protector(
    issuer: str, audience: str, keys: KeySource, *, leeway: int = 60,
    verified_cache_size: int = VERIFIED_CACHE_SIZE,
) -> BearerProtector:
    protector = BearerProtector()
    protector.register_token_validator(AccessTokenValidator(
        issuer, audience, keys, leeway=leeway, verified_cache_size=verified_cache_size
    ))
    return protector


def protector_for_issuer(
    issuer: str, audience: str | None = None, **kwargs: Any
) -> BearerProtector:
    """Protect a Flask app with tokens from `issuer`, knowing nothing else about it. `leeway`
    and `verified_cache_size` go to the validator, anything else to RemoteIssuerKeys."""
    leeway = kwargs.pop("leeway", 60)
    cache_size = kwargs.pop("verified_cache_size", VERIFIED_CACHE_SIZE)
    issuer = issuer.rstrip("/")
    keys = RemoteIssuerKeys(issuer, **kwargs)
    return create_protector(issuer, audience or f"{issuer}/api", keys, leeway=leeway,
                            verified_cache_size=cache_size)
