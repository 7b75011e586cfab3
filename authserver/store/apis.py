"""The operator's APIs (RFC 8707 resource indicators): their registration, with every check,
and the registry each request reads.

An API is an audience URI, a name, the scopes it owns (a scope has one owner) and optionally
its own access-token lifetime. The sample API is built in (AUTHSERVER_API_AUDIENCE, scopes
notes:read and notes:write), the default resource, never stored and never deleted. The
registry is cached per worker and trusted only while `clients_version` is unchanged (every
change to an API moves it, models._bump_clients_version): the client cache reads that number
on each token request anyway, so following an API change costs no extra query.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import Api, ApiScope, Client, Role
from ..policy import ADMIN_API_SCOPES, OPENID_SCOPES, SAMPLE_API_SCOPES, is_loopback
from .client_metadata import RegistrationError, validate_signing_alg

if TYPE_CHECKING:
    from . import Store

SAMPLE_API_NAME = "Sample notes API"
ADMIN_API_NAME = "Administration API"
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); kept shorter than the column.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,200}")
MAX_DESCRIPTION = 200
MAX_AUDIENCE = 500


@dataclass(frozen=True)
class ApiScopeInfo:
    name: str
    description: str


@dataclass(frozen=True)
class ApiInfo:
    audience: str
    name: str
    scopes: tuple[ApiScopeInfo, ...]
    access_token_ttl: int | None
    built_in: bool = False
    signing_alg: str | None = None  # its access tokens' algorithm; None: the server's default

    @property
    def scope_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.scopes)

    def to_dict(self) -> dict[str, Any]:
        return {"audience": self.audience, "name": self.name,
                "scopes": [{"name": s.name, "description": s.description} for s in self.scopes],
                "access_token_ttl": self.access_token_ttl, "signing_alg": self.signing_alg,
                "built_in": self.built_in}


@dataclass(frozen=True)
class ApiRegistry:
    """Every API, by audience, and the owner of every API scope."""

    apis: dict[str, ApiInfo]
    owners: dict[str, str]
    default: str  # the audience of the default resource (the sample API)

    @classmethod
    def of(cls, default: ApiInfo, others: list[ApiInfo]) -> ApiRegistry:
        apis = {api.audience: api for api in (default, *others)}
        owners = {scope.name: api.audience for api in apis.values() for scope in api.scopes}
        return cls(apis=apis, owners=owners, default=default.audience)

    @property
    def known_scopes(self) -> frozenset[str]:
        return frozenset((*OPENID_SCOPES, *self.owners))

    def owner(self, scope: str) -> ApiInfo | None:
        audience = self.owners.get(scope)
        return self.apis[audience] if audience is not None else None

    def description(self, scope: str) -> str | None:
        api = self.owner(scope)
        return next((s.description for s in api.scopes if s.name == scope), None) if api else None


def sample_api(audience: str) -> ApiInfo:
    return ApiInfo(audience=audience, name=SAMPLE_API_NAME, access_token_ttl=None, built_in=True,
                   scopes=tuple(ApiScopeInfo(n, d) for n, d in SAMPLE_API_SCOPES.items()))


def admin_audience(issuer: str) -> str:
    return issuer.rstrip("/") + "/admin"


def admin_api(issuer: str) -> ApiInfo:
    """The administration API (`<issuer>/admin/v1`): built in, never stored or deleted."""
    return ApiInfo(audience=admin_audience(issuer), name=ADMIN_API_NAME,
                   access_token_ttl=None, built_in=True,
                   scopes=tuple(ApiScopeInfo(n, d) for n, d in ADMIN_API_SCOPES.items()))


def _info(api: Api) -> ApiInfo:
    return ApiInfo(audience=api.audience, name=api.name, access_token_ttl=api.access_token_ttl,
                   signing_alg=api.signing_alg,
                   scopes=tuple(ApiScopeInfo(s.name, s.description) for s in api.scopes))


class Apis:
    def __init__(self, store: Store, default_audience: str, issuer: str) -> None:
        self.store = store
        self.default = sample_api(default_audience)
        self.admin = admin_api(issuer)
        self._cached: tuple[int, ApiRegistry] | None = None
        self._lock = threading.Lock()

    def registry(self) -> ApiRegistry:
        """Every API now: the per-worker copy while no client or API has changed since."""
        cache = self.store.clients.cache
        version = cache.version_seen()
        if version is None:
            version = cache.current_version()
        cached = self._cached
        if version is not None and cached is not None and cached[0] == version:
            return cached[1]
        registry = load_registry(self.store.session(), self.default, self.admin)
        if version is not None:
            with self._lock:
                self._cached = (version, registry)
        return registry


def load_registry(session: Session, default: ApiInfo, *built_in: ApiInfo) -> ApiRegistry:
    """The default API, the other built-in ones (the administration API), the stored ones."""
    stored = session.scalars(select(Api).order_by(Api.audience)).all()
    return ApiRegistry.of(default, [*built_in, *(_info(api) for api in stored)])


# -- registration (the CLI) -------------------------------------------------------------------

def validate_audience(audience: str) -> str:
    """An absolute URI without a fragment: https, or http only on loopback (INTERFACE.md)."""
    if len(audience) > MAX_AUDIENCE or not audience.isprintable() or " " in audience:
        raise RegistrationError(f"audience {audience!r} is not a URI (at most {MAX_AUDIENCE} "
                                "printable characters, no spaces)")
    try:
        parts = urlsplit(audience)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise RegistrationError(f"audience {audience!r} has an invalid host or port") from None
    if parts.fragment or "#" in audience:
        raise RegistrationError(f"audience {audience!r} must not have a fragment")
    if parts.scheme == "https" and parts.hostname:
        return audience
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return audience
    raise RegistrationError(
        f"audience {audience!r} must be an absolute https URI (http only on a loopback host)")


def parse_scopes(specs: list[str]) -> list[tuple[str, str]]:
    """`NAME[=DESCRIPTION]` each; names are RFC 6749 scope tokens, each given once."""
    parsed: list[tuple[str, str]] = []
    for spec in specs:
        name, _, description = spec.partition("=")
        if not _SCOPE_TOKEN.fullmatch(name):
            raise RegistrationError(
                f"scope {name!r} is not a scope name (RFC 6749 §3.3: printable ASCII without "
                "spaces, quotes or backslashes, at most 200 characters)")
        if len(description) > MAX_DESCRIPTION or not description.isprintable():
            raise RegistrationError(f"the description of {name!r} must be printable text of at "
                                    f"most {MAX_DESCRIPTION} characters")
        if any(name == seen for seen, _ in parsed):
            raise RegistrationError(f"scope {name!r} is given twice")
        parsed.append((name, description.strip()))
    if not parsed:
        raise RegistrationError("an API needs at least one --scope")
    return parsed


def create_api(session: Session, registry: ApiRegistry, *, audience: str, name: str,
               scopes: list[str], access_token_ttl: int | None, signing_alg: str | None = None,
               signing_algs: tuple[str, ...] = ("RS256",)) -> ApiInfo:
    audience = validate_audience(audience)
    validate_signing_alg(signing_alg, signing_algs, "--signing-alg")
    if not name.strip() or len(name) > 200 or not name.isprintable():
        raise RegistrationError("the API name must be printable text of 1 to 200 characters")
    if audience in registry.apis:
        raise RegistrationError(f"an API with audience {audience!r} exists already")
    if access_token_ttl is not None and access_token_ttl < 1:
        raise RegistrationError("--access-token-ttl must be at least 1 second")
    parsed = parse_scopes(scopes)
    for scope, _ in parsed:
        if scope in OPENID_SCOPES:
            raise RegistrationError(f"scope {scope!r} is an OpenID scope; it belongs to no API")
        owner = registry.owner(scope)
        if owner is not None:
            raise RegistrationError(f"scope {scope!r} belongs to the API {owner.audience!r}")
    api = Api(audience=audience, name=name.strip(), access_token_ttl=access_token_ttl,
              signing_alg=signing_alg, scopes=[ApiScope(name=n, description=d) for n, d in parsed])
    session.add(api)
    session.flush()
    return _info(api)


def _stored(session: Session, registry: ApiRegistry, audience: str, doing: str) -> Api:
    if audience == registry.default:
        raise RegistrationError(f"the built-in sample API is the default resource and cannot be "
                                f"{doing}")
    if audience in registry.apis and registry.apis[audience].built_in:
        raise RegistrationError(f"the built-in administration API cannot be {doing}")
    api = session.scalar(select(Api).where(Api.audience == audience))
    if api is None:
        raise LookupError(f"no API with audience {audience!r}")
    return api


def _withdraw_scopes(session: Session, gone: set[str]) -> list[str]:
    """Take scopes out of every client's registration; returns the client_ids changed."""
    changed = []
    for client in session.scalars(select(Client)):
        kept = [s for s in client.scope.split() if s not in gone]
        if len(kept) != len(client.scope.split()):
            client.scope = " ".join(kept)
            changed.append(client.client_id)
    return changed


def update_api(session: Session, registry: ApiRegistry, audience: str, *,
               name: str | None = None, add_scopes: list[str] | None = None,
               remove_scopes: list[str] | None = None,
               access_token_ttl: int | None = None, signing_alg: str | None = None,
               signing_algs: tuple[str, ...] = ("RS256",)) -> tuple[ApiInfo, list[str]]:
    """Rename, add scopes, remove scopes (they leave every client too), set the token
    lifetime (0: back to the server's default) or the tokens' algorithm ("default": the
    server's); all in one transaction. Returns the API and the client_ids that lost scopes."""
    api = _stored(session, registry, audience, "changed")
    if signing_alg is not None:
        api.signing_alg = (None if signing_alg == "default"
                           else validate_signing_alg(signing_alg, signing_algs, "--signing-alg"))
    if name is not None:
        if not name.strip() or len(name) > 200 or not name.isprintable():
            raise RegistrationError("the API name must be printable text of 1 to 200 characters")
        api.name = name.strip()
    if access_token_ttl is not None:
        if access_token_ttl < 0:
            raise RegistrationError("--access-token-ttl must be at least 1 second (0: default)")
        api.access_token_ttl = access_token_ttl or None
    owned = {s.name: s for s in api.scopes}
    for scope in remove_scopes or []:
        if scope not in owned:
            raise RegistrationError(f"the API {audience!r} has no scope {scope!r}")
        api.scopes.remove(owned.pop(scope))
    for scope, description in parse_scopes(add_scopes) if add_scopes else []:
        if scope in owned:
            owned[scope].description = description
            continue
        if scope in OPENID_SCOPES:
            raise RegistrationError(f"scope {scope!r} is an OpenID scope; it belongs to no API")
        owner = registry.owner(scope)
        if owner is not None:
            raise RegistrationError(f"scope {scope!r} belongs to the API {owner.audience!r}")
        api.scopes.append(ApiScope(name=scope, description=description))
    if not api.scopes:
        raise RegistrationError("an API keeps at least one scope (delete the API instead)")
    changed = _withdraw_scopes(session, set(remove_scopes or []))
    session.flush()
    return _info(api), changed


def delete_api(session: Session, registry: ApiRegistry, audience: str) -> list[str]:
    """Delete an API; its scopes leave every client's registration, its roles (with their
    grants) go with it, and its resource servers stop being one (one transaction). Returns
    the client_ids that lost scopes."""
    api = _stored(session, registry, audience, "deleted")
    changed = _withdraw_scopes(session, {s.name for s in api.scopes})
    session.execute(delete(Role).where(Role.audience == api.audience))
    for client in session.scalars(select(Client).where(Client.resource_server == audience)):
        client.resource_server = None  # its tokens are gone with it
    session.delete(api)
    session.flush()
    return changed
