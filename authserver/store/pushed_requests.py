"""Pushed authorization requests (RFC 9126): kept until their request_uri is used or expires."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from ..hashing import hash_secret
from ..models import PushedRequest

if TYPE_CHECKING:
    from . import Store

# RFC 9126 §2.2: the request_uri is a URN of this form; the rest is 256 random bits.
URN_PREFIX = "urn:ietf:params:oauth:request_uri:"


def is_pushed(request_uri: str | None) -> bool:
    return bool(request_uri) and str(request_uri).startswith(URN_PREFIX)


class PushedRequests:
    def __init__(self, store: Store) -> None:
        self.store = store

    def push(self, client_id: str, parameters: dict[str, Any], ttl: int) -> str:
        request_uri = URN_PREFIX + secrets.token_urlsafe(32)
        self.store.begin_write().add(PushedRequest(
            request_uri_hash=hash_secret(request_uri), client_id=client_id,
            parameters=parameters, expires_at=self.store.now() + ttl))
        return request_uri

    def find(self, request_uri: str, client_id: str) -> dict[str, Any] | None:
        """The pushed parameters: only for the client that pushed them, unused and unexpired.
        The login and consent pages of one request reread them (RFC 9126 §4 allows reloads);
        `use` ends that."""
        found = self.store.session().scalar(select(PushedRequest).where(
            PushedRequest.request_uri_hash == hash_secret(request_uri)))
        if (found is None or found.client_id != client_id or found.used_at is not None
                or found.expires_at <= self.store.now()):
            return None
        return dict(found.parameters)

    def use(self, request_uri: str) -> None:
        """A code (or a denial) came of it: it never serves again (in the answer's transaction)."""
        self.store.begin_write().execute(
            update(PushedRequest)
            .where(PushedRequest.request_uri_hash == hash_secret(request_uri))
            .values(used_at=self.store.now())
            .execution_options(synchronize_session=False))
