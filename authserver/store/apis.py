"""The operator's APIs (RFC 8707 resource indicators): the registry each request reads (their
registration, with every check, is operations/apis.py).

An API is an audience URI, a name, the scopes it owns (a scope has one owner) and optionally
its own access-token lifetime. The sample API is built in (AUTHSERVER_API_AUDIENCE, scopes
notes:read and notes:write), the default resource, never stored and never deleted. The
registry is cached per worker and trusted only while `clients_version` is unchanged (every
change to an API moves it, models._bump_clients_version): the client cache reads that number
on each token request anyway, so following an API change costs no extra query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Api
from ..policy import ADMIN_API_SCOPES, OPENID_SCOPES, SAMPLE_API_SCOPES
from .client_cache import KeptByVersion

if TYPE_CHECKING:
    from . import Store

SAMPLE_API_NAME = "Sample notes API"
ADMIN_API_NAME = "Administration API"
SAMPLE_ID, ADMIN_ID = "sample", "admin"


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
    # Its id in the administration API (/admin/v1/apis/{id}): the row's key, or the built-in
    # ones' names (SAMPLE_ID, ADMIN_ID).
    id: str = ""

    @property
    def scope_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.scopes)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "audience": self.audience, "name": self.name,
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
                   id=SAMPLE_ID,
                   scopes=tuple(ApiScopeInfo(n, d) for n, d in SAMPLE_API_SCOPES.items()))


def admin_audience(issuer: str) -> str:
    return issuer.rstrip("/") + "/admin"


def admin_api(issuer: str) -> ApiInfo:
    """The administration API (`<issuer>/admin/v1`): built in, never stored or deleted."""
    return ApiInfo(audience=admin_audience(issuer), name=ADMIN_API_NAME,
                   access_token_ttl=None, built_in=True, id=ADMIN_ID,
                   scopes=tuple(ApiScopeInfo(n, d) for n, d in ADMIN_API_SCOPES.items()))


def api_info(api: Api) -> ApiInfo:
    return ApiInfo(audience=api.audience, name=api.name, access_token_ttl=api.access_token_ttl,
                   signing_alg=api.signing_alg, id=str(api.id),
                   scopes=tuple(ApiScopeInfo(s.name, s.description) for s in api.scopes))


class Apis:
    def __init__(self, store: Store, default_audience: str, issuer: str) -> None:
        self.store = store
        self.default = sample_api(default_audience)
        self.admin = admin_api(issuer)
        self._registry = KeptByVersion(store, lambda: load_registry(
            store.session(), self.default, self.admin))

    def registry(self) -> ApiRegistry:
        """Every API now: the per-worker copy while no client or API has changed since."""
        return self._registry.get()


def load_registry(session: Session, default: ApiInfo, *built_in: ApiInfo) -> ApiRegistry:
    """The default API, the other built-in ones (the administration API), the stored ones."""
    stored = session.scalars(select(Api).order_by(Api.audience)).all()
    return ApiRegistry.of(default, [*built_in, *(api_info(api) for api in stored)])
