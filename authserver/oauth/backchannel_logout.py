"""OpenID Connect Back-Channel Logout 1.0: when a sign-in session ends, every client it logged
the user in to that registered a backchannel_logout_uri is sent a logout token (§2.4: a JWT of
typ logout+jwt, with sub, sid and the back-channel logout event, never a nonce).

Written by hand: Authlib has no back-channel logout. Tokens are signed in the request that
ends the session; delivery runs on a small pool of threads in the worker, so the user's logout
page never waits for a client. Each POST has a bounded timeout (AUTHSERVER_BACKCHANNEL_LOGOUT_TIMEOUT)
and is retried a bounded number of times on network errors and 5xx answers; a 4xx is the
client refusing the token (§2.8), which a retry would not change. The outcome of each is an
audit event.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from .. import events
from ..keystore import KeyStore
from ..models import Client, LoginSession
from .signing import alg_for, sign

EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"
# A logout token is for immediate use (§2.4 suggests a short exp): two minutes.
LOGOUT_TOKEN_TTL = 120
# Seconds before each retry of a failed delivery: three attempts in all (the default of
# AUTHSERVER_BACKCHANNEL_LOGOUT_RETRY_DELAYS).
RETRY_DELAYS = (1.0, 4.0)


class LogoutNotifier:
    def __init__(self, issuer: str, keystore: KeyStore, timeout: float,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS,
                 signing_algs: tuple[str, ...] = ("RS256",)) -> None:
        self.issuer = issuer
        self.signing_algs = signing_algs
        self.keystore = keystore
        self.timeout = timeout
        self.retry_delays = retry_delays
        self._pool: ThreadPoolExecutor | None = None

    def logout_token(self, client: Client, sub: str, sid: str | None) -> str:
        """Signed as the client's ID tokens are (its id_token_signed_response_alg)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": client.client_id, "iat": now, "exp": now + LOGOUT_TOKEN_TTL,
            "jti": secrets.token_urlsafe(16), "sub": sub, "events": {EVENT: {}}}
        if sid:
            claims["sid"] = sid
        alg = alg_for(client, client.id_token_signed_response_alg, self.signing_algs)
        return sign(self.keystore.signing_key(alg), {"typ": LOGOUT_TOKEN_TYPE}, claims, alg)

    def session_ended(self, login_session: LoginSession, clients: list[Client]) -> list[Future[bool]]:
        """Send every client of the ended session that asked for it a logout token; returns
        at once (the futures say how each delivery ended)."""
        sent = []
        for client in clients:
            if not client.backchannel_logout_uri:
                continue
            token = self.logout_token(client, login_session.user.sub, login_session.sid)
            sent.append(self._executor().submit(
                self._deliver, client.client_id, client.backchannel_logout_uri, token))
        return sent

    def _executor(self) -> ThreadPoolExecutor:
        # Made on first use, in the worker process (a pool made before a fork has no threads).
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="backchannel-logout")
        return self._pool

    def _deliver(self, client_id: str, uri: str, token: str) -> bool:
        outcome = "failure"
        for attempt, delay in enumerate((0.0, *self.retry_delays), start=1):
            time.sleep(delay)
            try:
                answer = httpx.post(uri, data={"logout_token": token}, timeout=self.timeout,
                                    follow_redirects=False,
                                    headers={"Cache-Control": "no-store"})
            except httpx.HTTPError:
                continue
            if answer.status_code in (200, 204):
                events.record("logout.backchannel", client_id=client_id, attempts=attempt)
                return True
            if answer.status_code < 500:
                outcome = "refused"
                break
        events.record("logout.backchannel", outcome, client_id=client_id, attempts=attempt)
        return False
