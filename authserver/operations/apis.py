"""APIs (resource servers, RFC 8707): register, change, delete and list the operator's APIs,
with every rule (`authserver api ...`, `/admin/v1/apis`).

An API is an audience URI, a name, the scopes it owns (a scope has one owner) and optionally
its own access-token lifetime and signing algorithm. The built-in sample API (the default
resource) and administration API are never changed or deleted (Conflict). In the
administration API an API's id is its row's key, or `sample` and `admin` for the built-in ones.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..models import Api, ApiScope, Client, Role
from ..policy import OPENID_SCOPES, is_loopback
from ..store import Session
from ..store.apis import ADMIN_ID, SAMPLE_ID, ApiInfo, ApiRegistry, api_info
from ..store.client_metadata import RegistrationError, validate_signing_alg
from ..store.rows import add, after, by_key, every, first, remove, remove_where, save
from .errors import BadInput, Conflict, Duplicate, NotFound
from .pages import Page, check_limit, decode_cursor, encode_cursor

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); kept shorter than the column.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,200}")
MAX_DESCRIPTION = 200
MAX_AUDIENCE = 500
# Pages walk the built-in APIs first, then the stored ones by key: positions 1 and 2, then the
# row's key + 2 (so a cursor is one number, as for every other collection).
_BUILT_IN_POSITIONS = {SAMPLE_ID: 1, ADMIN_ID: 2}


def _built_in(registry: ApiRegistry) -> list[ApiInfo]:
    return sorted((api for api in registry.apis.values() if api.built_in),
                  key=lambda api: _BUILT_IN_POSITIONS[api.id])


def every_api(registry: ApiRegistry) -> list[ApiInfo]:
    """The built-in sample API first, then the administration API, then the others."""
    return [*_built_in(registry), *sorted((a for a in registry.apis.values() if not a.built_in),
                                          key=lambda a: a.audience)]


def list_apis(session: Session, registry: ApiRegistry, *, limit: int | None = None,
              cursor: str | None = None) -> Page:
    limit = check_limit(limit)
    position = decode_cursor(cursor) if cursor is not None else 0
    rows: list[tuple[int, ApiInfo]] = [(_BUILT_IN_POSITIONS[api.id], api)
                                       for api in _built_in(registry)]
    rows = [row for row in rows if row[0] > position]
    rows += [(api.id + 2, api_info(api))
             for api in after(session, Api, position - 2, limit + 1)]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([api.to_dict() for _, api in rows],
                encode_cursor(rows[-1][0]) if more and rows else None)


def find(session: Session, registry: ApiRegistry, api_id: str) -> ApiInfo:
    """The API of an id the administration API gave."""
    found = next((api for api in _built_in(registry) if api.id == api_id), None)
    if found is not None:
        return found
    row = (by_key(session, Api, int(api_id))
           if api_id.isascii() and api_id.isdigit() and len(api_id) < 10 else None)
    if row is None:
        raise NotFound(f"no API with id {api_id!r}", field="id")
    return api_info(row)


def show_api(session: Session, registry: ApiRegistry, audience: str) -> ApiInfo:
    """The API of an audience (the CLI's name for it)."""
    found = registry.apis.get(audience)
    if found is None:
        raise NotFound(f"no API with audience {audience!r}", field="audience")
    return found


def scope_changes(api: ApiInfo, scopes: list[tuple[str, str]]
                  ) -> tuple[list[tuple[str, str]], list[str]]:
    """A new list of scopes as (to add or describe anew, to remove)."""
    given = {name for name, _ in scopes}
    return scopes, [s.name for s in api.scopes if s.name not in given]


# -- registration: every rule --------------------------------------------------------------------

def validate_audience(audience: str) -> str:
    """An absolute URI without a fragment: https, or http only on loopback (INTERFACE.md)."""
    if len(audience) > MAX_AUDIENCE or not audience.isprintable() or " " in audience:
        raise BadInput(f"audience {audience!r} is not a URI (at most {MAX_AUDIENCE} "
                       "printable characters, no spaces)", field="audience")
    try:
        parts = urlsplit(audience)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise BadInput(f"audience {audience!r} has an invalid host or port",
                       field="audience") from None
    if parts.fragment or "#" in audience:
        raise BadInput(f"audience {audience!r} must not have a fragment", field="audience")
    if parts.scheme == "https" and parts.hostname:
        return audience
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return audience
    raise BadInput(
        f"audience {audience!r} must be an absolute https URI (http only on a loopback host)",
        field="audience")


def parse_scopes(specs: list[str] | list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`NAME[=DESCRIPTION]` each (the CLI's) or (name, description) pairs (the API's, where a
    name may hold "="); names are RFC 6749 scope tokens, each given once."""
    parsed: list[tuple[str, str]] = []
    for spec in specs:
        name, description = spec if isinstance(spec, tuple) else spec.partition("=")[::2]
        if not _SCOPE_TOKEN.fullmatch(name):
            raise BadInput(
                f"scope {name!r} is not a scope name (RFC 6749 §3.3: printable ASCII without "
                "spaces, quotes or backslashes, at most 200 characters)", field="scopes")
        if len(description) > MAX_DESCRIPTION or not description.isprintable():
            raise BadInput(f"the description of {name!r} must be printable text of at "
                           f"most {MAX_DESCRIPTION} characters", field="scopes")
        if any(name == seen for seen, _ in parsed):
            raise BadInput(f"scope {name!r} is given twice", field="scopes")
        parsed.append((name, description.strip()))
    if not parsed:
        raise BadInput("an API needs at least one scope", field="scopes")
    return parsed


def _signing_alg(alg: str | None, configured: tuple[str, ...]) -> str | None:
    try:
        return validate_signing_alg(alg, configured, "signing_alg")
    except RegistrationError as exc:
        raise BadInput(str(exc), field="signing_alg") from None


def create_api(session: Session, registry: ApiRegistry, *, audience: str, name: str,
               scopes: list[str] | list[tuple[str, str]], access_token_ttl: int | None,
               signing_alg: str | None = None,
               signing_algs: tuple[str, ...] = ("RS256",)) -> ApiInfo:
    audience = validate_audience(audience)
    _signing_alg(signing_alg, signing_algs)
    if not name.strip() or len(name) > 200 or not name.isprintable():
        raise BadInput("the API name must be printable text of 1 to 200 characters", field="name")
    if audience in registry.apis:
        raise Duplicate(f"an API with audience {audience!r} exists already", field="audience")
    if access_token_ttl is not None and access_token_ttl < 1:
        raise BadInput("access_token_ttl must be at least 1 second", field="access_token_ttl")
    parsed = parse_scopes(scopes)
    for scope, _ in parsed:
        if scope in OPENID_SCOPES:
            raise BadInput(f"scope {scope!r} is an OpenID scope; it belongs to no API", field="scopes")
        owner = registry.owner(scope)
        if owner is not None:
            raise Duplicate(f"scope {scope!r} belongs to the API {owner.audience!r}", field="scopes")
    api = Api(audience=audience, name=name.strip(), access_token_ttl=access_token_ttl,
              signing_alg=signing_alg, scopes=[ApiScope(name=n, description=d) for n, d in parsed])
    return api_info(add(session, api))


def _stored(session: Session, registry: ApiRegistry, audience: str, doing: str) -> Api:
    if audience == registry.default:
        raise Conflict(f"the built-in sample API is the default resource and cannot be "
                       f"{doing}")
    if audience in registry.apis and registry.apis[audience].built_in:
        raise Conflict(f"the built-in administration API cannot be {doing}")
    api = first(session, Api, audience=audience)
    if api is None:
        raise NotFound(f"no API with audience {audience!r}", field="audience")
    return api


def _withdraw_scopes(session: Session, gone: set[str]) -> list[str]:
    """Take scopes out of every client's registration; returns the client_ids changed."""
    changed = []
    for client in every(session, Client):
        kept = [s for s in client.scope.split() if s not in gone]
        if len(kept) != len(client.scope.split()):
            client.scope = " ".join(kept)
            changed.append(client.client_id)
    return changed


def update_api(session: Session, registry: ApiRegistry, audience: str, *,
               name: str | None = None,
               add_scopes: list[str] | list[tuple[str, str]] | None = None,
               remove_scopes: list[str] | None = None,
               access_token_ttl: int | None = None, signing_alg: str | None = None,
               signing_algs: tuple[str, ...] = ("RS256",)) -> tuple[ApiInfo, list[str]]:
    """Rename, add scopes, remove scopes (they leave every client too), set the token
    lifetime (0: back to the server's default) or the tokens' algorithm ("default": the
    server's); all in one transaction. Returns the API and the client_ids that lost scopes."""
    api = _stored(session, registry, audience, "changed")
    if signing_alg is not None:
        api.signing_alg = (None if signing_alg == "default"
                           else _signing_alg(signing_alg, signing_algs))
    if name is not None:
        if not name.strip() or len(name) > 200 or not name.isprintable():
            raise BadInput("the API name must be printable text of 1 to 200 characters", field="name")
        api.name = name.strip()
    if access_token_ttl is not None:
        if access_token_ttl < 0:
            raise BadInput("access_token_ttl must be at least 1 second (0: the default)",
                           field="access_token_ttl")
        api.access_token_ttl = access_token_ttl or None
    owned = {s.name: s for s in api.scopes}
    for scope in remove_scopes or []:
        if scope not in owned:
            raise BadInput(f"the API {audience!r} has no scope {scope!r}", field="scopes")
        api.scopes.remove(owned.pop(scope))
    for scope, description in parse_scopes(add_scopes) if add_scopes else []:
        if scope in owned:
            owned[scope].description = description
            continue
        if scope in OPENID_SCOPES:
            raise BadInput(f"scope {scope!r} is an OpenID scope; it belongs to no API", field="scopes")
        owner = registry.owner(scope)
        if owner is not None:
            raise Duplicate(f"scope {scope!r} belongs to the API {owner.audience!r}", field="scopes")
        api.scopes.append(ApiScope(name=scope, description=description))
    if not api.scopes:
        raise BadInput("an API keeps at least one scope (delete the API instead)", field="scopes")
    changed = _withdraw_scopes(session, set(remove_scopes or []))
    save(session)
    return api_info(api), changed


def delete_api(session: Session, registry: ApiRegistry, audience: str) -> list[str]:
    """Delete an API; its scopes leave every client's registration, its roles (with their
    grants) go with it, and its resource servers stop being one (one transaction). Returns
    the client_ids that lost scopes."""
    api = _stored(session, registry, audience, "deleted")
    changed = _withdraw_scopes(session, {s.name for s in api.scopes})
    remove_where(session, Role, audience=api.audience)
    for client in every(session, Client, resource_server=audience):
        client.resource_server = None  # its tokens are gone with it
    remove(session, api)
    return changed
