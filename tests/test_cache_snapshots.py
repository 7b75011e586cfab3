"""The per-worker copies the clients version vouches for (the clients, the login page's upstream
providers, the APIs, the roles' audiences and the clients' roles) never keep what a request
read in an older snapshot. On SQLite a request's transaction sees the database as it was at
its first read, while the version is read outside it, on a connection of its own: a change
committed between the two is in the version and not in what the request can load. The
request itself may go on with what it sees; the next request must see the change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from authserver.models import Client, Role
from authserver.operations import apis as api_operations
from authserver.operations import idps as idp_operations
from authserver.operations import roles as role_operations
from authserver.store import Store
from authserver.store.apis import load_registry
from authserver.store.idps import create_idp

from .helpers import make_client
from .test_login_page_providers import DISCOVERY


def _change_during_a_request(app: Flask, change: Callable[[], None],
                             look: Callable[[Store], Any]) -> Any:
    """One request reads something first (its snapshot starts), another worker commits
    `change`, then the request looks; returns what the next request's look sees."""
    store: Store = app.extensions["authserver.store"]
    with app.app_context():
        store.interactions.find("not-an-interaction", "a-browser")  # the request's first read
        change()
        look(store)
    with app.app_context():
        return look(store)


def test_a_client_deleted_meanwhile_is_gone_on_the_next_request(app: Flask) -> None:
    client_id, _ = make_client(app, grant_types=["client_credentials"])
    database = app.extensions["authserver.db"]

    def delete() -> None:
        with database.session() as session:
            session.delete(session.scalar(select(Client).where(Client.client_id == client_id)))

    assert _change_during_a_request(app, delete, lambda store: store.clients.get(client_id)) is None


def test_a_provider_renamed_meanwhile_shows_renamed_on_the_next_login_page(app: Flask) -> None:
    database = app.extensions["authserver.db"]
    with database.session() as session:
        create_idp(session, slug="upstream", name="Old Name", issuer=DISCOVERY["issuer"],
                   client_id="ours", client_secret="s3cret", scope="openid",
                   link_by_email=False, create_users=True, discovery=DISCOVERY, passphrase=None)

    def rename() -> None:
        with database.session() as session:
            idp_operations.update_provider(session, database.settings, "upstream",
                                           {"name": "New Name"})

    assert _change_during_a_request(app, rename, lambda store: store.idps.listed()) == [
        ("upstream", "New Name")]


def test_an_api_added_meanwhile_is_known_on_the_next_request(app: Flask) -> None:
    database = app.extensions["authserver.db"]
    audience = "https://orders.example.com"

    apis = app.extensions["authserver.store"].apis

    def add() -> None:
        with database.session() as session:  # not the request's: another worker's
            registry = load_registry(session, apis.default, apis.admin)
            api_operations.create_api(session, registry, audience=audience, name="Orders",
                                      scopes=["orders:read"], access_token_ttl=None)

    registry = _change_during_a_request(app, add, lambda store: store.apis.registry())
    assert audience in registry.apis


def _a_role_to_grant(app: Flask) -> tuple[int, str, Callable[[], None]]:
    """A client and a role of the sample API it does not hold yet: the client's primary key,
    the API's audience, and the grant (made in a session of its own, as another worker's)."""
    database = app.extensions["authserver.db"]
    store: Store = app.extensions["authserver.store"]
    client_id, _ = make_client(app, grant_types=["client_credentials"])
    audience = store.apis.default.audience
    with app.app_context(), database.session() as session:
        role_operations.create_role(session, store.apis.registry(), audience, "reader")
        client_pk = session.scalar(select(Client.id).where(Client.client_id == client_id))

    def grant() -> None:
        with database.session() as session:
            role = session.scalar(select(Role).where(Role.audience == audience))
            role_operations.grant(session, role, "client", client_id)

    return client_pk, audience, grant


def test_a_role_granted_to_a_client_meanwhile_is_in_the_next_requests_answer(app: Flask) -> None:
    store: Store = app.extensions["authserver.store"]
    client_pk, audience, grant = _a_role_to_grant(app)
    with app.app_context():
        assert store.roles.for_client(client_pk, audience) == ()  # kept per worker now
    assert _change_during_a_request(
        app, grant, lambda store: store.roles.for_client(client_pk, audience)) == ("reader",)


def test_a_clients_roles_read_in_an_older_snapshot_are_not_kept(app: Flask) -> None:
    """Another request (another thread) has already taken the new version's snapshot of the
    roles; this request, older, must not add to it what its own snapshot says."""
    store: Store = app.extensions["authserver.store"]
    client_pk, audience, grant = _a_role_to_grant(app)

    def another_request() -> None:
        with app.app_context():
            store.roles.for_user(0, audience, with_groups=False)  # takes the new snapshot

    with app.app_context():
        store.interactions.find("not-an-interaction", "a-browser")  # this request's snapshot
        grant()
        other = threading.Thread(target=another_request)
        other.start()
        other.join()
        store.roles.for_client(client_pk, audience)
    with app.app_context():
        assert store.roles.for_client(client_pk, audience) == ("reader",)
