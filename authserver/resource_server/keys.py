"""Where a resource server gets the issuer's public keys: `LocalKeys` (the authorization
server's own key store, in process) or `RemoteIssuerKeys` (any other service, given nothing but
the issuer URL: discovery, then the JWKS)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

log = logging.getLogger(__name__)


class KeySource(Protocol):
    def get_key(self, kid: str) -> Key | None:
        """The public key with this kid, or None if the issuer does not publish it."""


class LocalKeys:
    """The authorization server's own published keys (next, current, retired)."""

    def __init__(self, keystore: Any) -> None:
        self.keystore = keystore
        self._source: KeySet | None = None
        self._by_kid: dict[str, Key] = {}

    def get_key(self, kid: str) -> Key | None:
        keyset = self.keystore.public_keyset()
        if keyset is not self._source:
            # The store swapped in a new set (a rotation): index it once.
            self._by_kid = {key.kid: key for key in keyset.keys if key.kid}
            self._source = keyset
        return self._by_kid.get(kid)


class RemoteIssuerKeys:
    """An issuer's published keys, fetched via OIDC discovery and cached.

    Written by hand because no maintained library here does all of it: Cache-Control-aware
    caching, at most one refetch per `min_refetch_interval` on an unknown kid (a flood of
    bogus kids cannot make us hammer the issuer), and stale keys kept while the issuer is down.
    """

    def __init__(
        self,
        issuer: str,
        *,
        http: httpx.Client | None = None,
        min_refetch_interval: float = 30.0,
        default_max_age: int = 300,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.http = http or httpx.Client(timeout=timeout, follow_redirects=False)
        self.min_refetch_interval = min_refetch_interval
        self.default_max_age = default_max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str, Key] = {}
        self._fresh_until = 0.0
        self._last_fetch = float("-inf")

    def get_key(self, kid: str) -> Key | None:
        now = self._clock()
        key = self._keys.get(kid)
        if key is not None and now < self._fresh_until:
            return key
        with self._lock:
            key = self._keys.get(kid)
            stale = now >= self._fresh_until
            # Unknown kid or stale cache: refetch, but never more than once per interval;
            # a failed refetch leaves the (possibly stale) keys in place.
            if (key is None or stale) and now - self._last_fetch >= self.min_refetch_interval:
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        self._last_fetch = now
        try:
            jwks_uri = self._jwks_uri or self._discover()
            response = self.http.get(jwks_uri)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError, KeyError, TypeError) as exc:
            # The issuer is down or answers nonsense: keep validating with what we have.
            log.warning("cannot refresh keys of %s (%s); keeping %d cached keys",
                        self.issuer, exc, len(self._keys))
            return
        max_age = _max_age(response.headers.get("Cache-Control"), self.default_max_age)
        self._jwks_uri = jwks_uri
        self._keys = {key.kid: key for key in keys.keys if key.kid and _is_signing_key(key)}
        self._fresh_until = now + max_age

    def _discover(self) -> str:
        response = self.http.get(f"{self.issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        metadata = response.json()
        # OIDC Discovery §4.3 / RFC 8414 §3.3: the issuer must be exactly the one we trust.
        if metadata.get("issuer") != self.issuer:
            raise ValueError(f"discovery names issuer {metadata.get('issuer')!r}, not {self.issuer!r}")
        return str(metadata["jwks_uri"])


def _is_signing_key(key: Key) -> bool:
    return key.get("use", "sig") == "sig" and key.key_type != "oct"


def is_ascii_digits(value: str) -> bool:
    """0-9 only: str.isdigit() is also true for "²", which int() refuses."""
    return value.isascii() and value.isdigit()


def _max_age(cache_control: str | None, default: int) -> float:
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "no-store" or name.lower() == "no-cache":
            return 0
        if name.lower() == "max-age" and is_ascii_digits(value):
            return int(value)
    return default
