"""Upstream OpenID providers (models/federation.py): the operator's `idp` commands, the
providers a login page lists, the upstream sign-ins under way (state single use, bound to the
browser), and the identities linked to users."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.orm import Session

from ..hashing import hash_secret
from ..keystore.lifecycle import KeyStoreError
from ..keystore.sealing import seal, unseal
from ..models import IdentityProvider, LinkedIdentity, UpstreamSignIn, User
from .client_cache import KeptByVersion

if TYPE_CHECKING:
    from . import Store

SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
SEALED_PREFIX = "sealed:"
# How long a person may take at the provider's pages before coming back.
UPSTREAM_SIGN_IN_TTL = 600
_unsealed: dict[tuple[str, str], str] = {}  # (slug, sealed text) -> secret: scrypt once


class IdpError(ValueError):
    """An idp operation that cannot be done; the message says why (and `field` what)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def slug_of(name: str) -> str:
    """A slug from a provider's name: "Google Workspace" -> "google-workspace"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")


def create_idp(session: Session, *, slug: str, name: str, issuer: str, client_id: str,
               client_secret: str, scope: str, link_by_email: bool, create_users: bool,
               discovery: dict[str, Any], passphrase: str | None) -> IdentityProvider:
    check_idp(slug=slug, name=name, scope=scope)
    if find_idp(session, slug) is not None:
        raise IdpError(f"a provider with the slug {slug!r} already exists", "slug")
    idp = IdentityProvider(slug=slug, name=name, issuer=issuer, client_id=client_id,
                           client_secret=stored_secret(slug, client_secret, passphrase),
                           scope=scope, link_by_email=link_by_email,
                           create_users=create_users, discovery=discovery)
    session.add(idp)
    session.flush()
    return idp


def stored_secret(slug: str, client_secret: str, passphrase: str | None) -> str:
    """The client secret as stored: sealed with the keys' passphrase when there is one."""
    return (SEALED_PREFIX + seal(client_secret.encode(), passphrase.encode(), slug)
            if passphrase else client_secret)


def check_idp(*, slug: str, name: str, scope: str) -> None:
    """The rules of a new provider's slug, name and scope (before its discovery is read)."""
    # The name first: the slug is made from it unless one is given.
    if not name.strip() or len(name) > 200 or not name.isprintable():
        raise IdpError("name must be 1-200 printable characters", "name")
    if not SLUG_PATTERN.fullmatch(slug):
        raise IdpError(f"slug must be 1-64 of a-z, 0-9 and -, not at either end; got {slug!r}",
                       "slug")
    if "openid" not in scope.split():
        raise IdpError("scope must include openid", "scope")


def client_secret_of(idp: IdentityProvider, passphrase: str | None) -> str:
    """The client secret at the provider, unsealed (keystore.sealing: scrypt, so kept once
    opened). Raises KeyStoreError for a wrong or missing passphrase."""
    if not idp.client_secret.startswith(SEALED_PREFIX):
        return idp.client_secret
    known = _unsealed.get((idp.slug, idp.client_secret))
    if known is None:
        sealed = idp.client_secret[len(SEALED_PREFIX):]
        known = unseal(sealed, (passphrase or "").encode(), idp.slug).decode()
        _unsealed[(idp.slug, idp.client_secret)] = known
    return known


def reseal_client_secrets(conn: Connection, old: bytes, new: bytes) -> int:
    """`keys rekey`: every sealed client secret sealed again with the new passphrase, on the
    rekey's connection (its transaction: one that does not open fails it all)."""
    rows = conn.execute(select(IdentityProvider.id, IdentityProvider.slug,
                               IdentityProvider.client_secret)
                        .where(IdentityProvider.client_secret.startswith(SEALED_PREFIX))).all()
    for row in rows:
        try:
            secret = unseal(row.client_secret[len(SEALED_PREFIX):], old, row.slug)
        except KeyStoreError:
            raise KeyStoreError(f"cannot open the client secret of the provider {row.slug!r} "
                                "with AUTHSERVER_KEYS_PASSPHRASE: nothing was resealed") from None
        conn.execute(update(IdentityProvider).where(IdentityProvider.id == row.id)
                     .values(client_secret=stored_secret(row.slug, secret.decode(),
                                                         new.decode())))
    return len(rows)


def find_idp(session: Session, slug: str) -> IdentityProvider | None:
    return session.scalar(select(IdentityProvider).where(IdentityProvider.slug == slug))


_ALL = select(IdentityProvider).order_by(IdentityProvider.slug)  # built once


def list_idps(session: Session) -> list[IdentityProvider]:
    return list(session.scalars(_ALL))


def identities_of(session: Session, user: User) -> list[dict[str, str]]:
    """The user's linked identities, as `user show --json` prints them ([{idp, sub}])."""
    rows = session.scalars(select(LinkedIdentity).where(LinkedIdentity.user_id == user.id)
                           .order_by(LinkedIdentity.id))
    return [{"idp": row.idp.slug, "sub": row.sub} for row in rows]


def idp_to_dict(idp: IdentityProvider, our_issuer: str) -> dict[str, Any]:
    return {
        "id": idp.slug, "slug": idp.slug, "name": idp.name, "issuer": idp.issuer, "client_id": idp.client_id,
        "scope": idp.scope, "redirect_uri": f"{our_issuer}/login/idp/{idp.slug}/callback",
        "link_by_email": idp.link_by_email, "create_users": idp.create_users,
        "created_at": idp.created_at,
    }


class Idps:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._listed = KeptByVersion(store, lambda: [(idp.slug, idp.name) for idp in self.all()])

    def listed(self) -> list[tuple[str, str]]:
        """(slug, name) of every provider, as the login page lists them: the per-worker copy
        while nothing has changed since. A provider's write bumps the clients version
        (models/clients.py), which the request's client lookup has read already."""
        return self._listed.get()

    def all(self) -> list[IdentityProvider]:
        return list_idps(self.store.session())

    def by_slug(self, slug: str) -> IdentityProvider | None:
        return find_idp(self.store.session(), slug)

    def start_sign_in(self, idp: IdentityProvider, browser: str, *, interaction_id: str | None,
                      link_user_id: int | None) -> UpstreamSignIn:
        """A new upstream sign-in with fresh state, nonce and PKCE verifier; returns it with
        its state in `state` (only the hash is stored). Committed: the browser leaves now."""
        state, now = secrets.token_urlsafe(32), self.store.now()
        sign_in = UpstreamSignIn(
            state_hash=hash_secret(state), browser=browser, idp_id=idp.id,
            nonce=secrets.token_urlsafe(32), code_verifier=secrets.token_urlsafe(64),
            interaction_id=interaction_id, link_user_id=link_user_id,
            expires_at=now + UPSTREAM_SIGN_IN_TTL)
        self.store.begin_write().add(sign_in)
        self.store.commit()
        sign_in.state = state  # type: ignore[attr-defined]
        return sign_in

    def spend_sign_in(self, state: str, browser: str, idp: IdentityProvider) -> UpstreamSignIn | None:
        """The sign-in of this state, if this browser started it at this provider and it lives;
        deleted as it is found (and committed): a second callback with it finds nothing."""
        session = self.store.begin_write()
        state_hash = hash_secret(state)
        found = session.get(UpstreamSignIn, state_hash)
        if found is None:
            return None
        result = session.execute(
            delete(UpstreamSignIn).where(UpstreamSignIn.state_hash == state_hash)
            .execution_options(synchronize_session=False))
        self.store.commit()
        if not result.rowcount:  # type: ignore[attr-defined]
            return None  # another callback with this state spent it first
        if found.browser != browser or found.idp_id != idp.id \
                or found.expires_at <= self.store.now():
            return None
        return found

    def linked_user(self, idp: IdentityProvider, sub: str) -> User | None:
        return self.store.session().scalar(
            select(User).join(LinkedIdentity, LinkedIdentity.user_id == User.id)
            .where(LinkedIdentity.idp_id == idp.id, LinkedIdentity.sub == sub))

    def link(self, user: User, idp: IdentityProvider, sub: str) -> None:
        self.store.begin_write().add(LinkedIdentity(idp_id=idp.id, user_id=user.id, sub=sub))

    def linked(self, user: User) -> list[LinkedIdentity]:
        return list(self.store.session().scalars(
            select(LinkedIdentity).where(LinkedIdentity.user_id == user.id)
            .order_by(LinkedIdentity.id)))

    def unlink(self, user: User, idp: IdentityProvider, *, passkeys_work: bool = False) -> bool:
        """Removes the user's link to this provider, unless it is their last way to sign in
        (no password, no other link, and no passkey that works here: `passkeys_work`). False
        when refused or not linked."""
        session = self.store.begin_write()
        count = session.scalar(select(func.count()).select_from(LinkedIdentity)
                               .where(LinkedIdentity.user_id == user.id)) or 0
        if passkeys_work and self.store.passkeys.count(user):
            count += 1  # a passkey signs them in too
        if not user.password_hash and count <= 1:
            return False
        result = session.execute(delete(LinkedIdentity).where(
            LinkedIdentity.idp_id == idp.id, LinkedIdentity.user_id == user.id))
        return bool(result.rowcount)  # type: ignore[attr-defined]
