"""An HTTP request and its answer as the protocol sees them: plain data, built by the web layer
(web/protocol.py) from Flask's request and turned back into a Flask response there. So nothing
under oauth/ reads Flask's globals, as in Authlib's own core (`authlib.oauth2`): the front end
builds the request, passes it in, and gets a status, a body and headers back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request


class FormPayload(OAuth2Payload):
    """Parameters from a multi-valued mapping (a form, a query): one value a name in `data`,
    every value in `datalist` (as Authlib's Flask payload)."""

    def __init__(self, values: Any) -> None:
        self._values = values

    @property
    def data(self) -> Any:
        return self._values

    @cached_property
    def datalist(self) -> defaultdict[str, list[Any]]:
        values: defaultdict[str, list[Any]] = defaultdict(list)
        for name in self._values:
            values[name].extend(self._values.getlist(name))
        return values


class ProtocolRequest(OAuth2Request):
    """A form or query request. Its URI is the configured issuer's plus the path, never one built
    from the Host header: Authlib judges transport security by that URI (and an unknown Host
    made every request a 500), and the issuer is what the operator said clients use.

    `parameters` is what the grants and endpoints read: the form body alone for the token,
    introspection, revocation, device authorization and PAR endpoints (RFC 6749 §3.2, RFC 7662
    §2.1, RFC 7009 §2.1: never the query string; `back_channel`), the query or the form for
    the authorization and logout endpoints (OIDC Core §3.1.2.1)."""

    def __init__(self, *, method: str, issuer: str, path: str, query: str, headers: Any,
                 form: Any, args: Any, parameters: Any, address: str,
                 back_channel: bool) -> None:
        super().__init__(method=method, uri=f"{issuer}{path}?{query}", headers=headers)
        self.path = path                  # the endpoint's path (which audience an assertion has)
        self.address = address            # the client's address, for the audit line
        self.back_channel = back_channel  # the client talks to us directly (DPoP nonces, §8)
        self._form, self._args = form, args
        self.payload = FormPayload(parameters)

    @property
    def args(self) -> Any:
        return self._args

    @property
    def form(self) -> Any:
        return self._form


class _LazyJson(JsonPayload):
    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load

    @property
    def data(self) -> Any:
        return self._load()  # read only when an endpoint asks (GET and DELETE have no body)


class ProtocolJsonRequest(JsonRequest):
    """A JSON request (client registration, RFC 7591 and 7592); `load` reads its body."""

    def __init__(self, *, method: str, issuer: str, path: str, query: str, headers: Any,
                 load: Callable[[], Any]) -> None:
        super().__init__(method, f"{issuer}{path}?{query}", headers)
        self.payload = _LazyJson(load)


@dataclass
class Answer:
    """What the protocol answers: a status, a body (a dict is JSON) and headers, for the web
    layer to send as they are."""

    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    @property
    def location(self) -> str | None:
        return self.header("Location")

    @location.setter
    def location(self, value: str) -> None:
        # Authlib's RFC 9207 extension sets the redirect's location (adding `iss`).
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))

    def json(self) -> dict[str, Any]:
        """The body when it is a JSON object, else empty (a redirect, an empty answer)."""
        return self.body if isinstance(self.body, dict) else {}
