"""The login page lists the upstream providers from a per-worker copy (store/idps.py: listed);
a provider added, renamed or removed elsewhere (the admin API, the CLI: another session, as
another worker or host would be) shows on the very next login page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from authserver.operations import idps as idp_operations
from authserver.store.idps import create_idp

from .helpers import pkce
from .test_code_flow import authorize_url

DISCOVERY = {"issuer": "https://upstream.example", "authorization_endpoint":
             "https://upstream.example/authorize", "token_endpoint": "https://upstream.example/token",
             "jwks_uri": "https://upstream.example/jwks"}


def _login_page(client: FlaskClient, client_id: str) -> str:
    _, challenge = pkce()
    page = client.get(authorize_url(client_id, challenge))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="password"' in html
    return html


def test_a_provider_added_renamed_or_removed_shows_on_the_next_login_page(
    app: Flask, client: FlaskClient, public_client: str
) -> None:
    database = app.extensions["authserver.db"]
    settings = database.settings
    assert "/login/idp/" not in _login_page(client, public_client)  # none yet, and now cached

    with database.session() as session:
        create_idp(session, slug="upstream", name="Upstream One", issuer=DISCOVERY["issuer"],
                   client_id="ours", client_secret="s3cret", scope="openid email",
                   link_by_email=False, create_users=True, discovery=DISCOVERY, passphrase=None)
    html = _login_page(client, public_client)
    assert "Upstream One" in html and "/login/idp/upstream" in html

    with database.session() as session:
        idp_operations.update_provider(session, settings, "upstream", {"name": "Upstream Two"})
    html = _login_page(client, public_client)
    assert "Upstream Two" in html and "Upstream One" not in html

    with database.session() as session:
        idp_operations.delete_provider(session, "upstream")
    html = _login_page(client, public_client)
    assert "/login/idp/" not in html and "Upstream Two" not in html
