"""Discovery documents pass Authlib's own validators (RFC 8414 §2, OIDC Discovery §3)."""

from __future__ import annotations

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata
from flask.testing import FlaskClient

from authserver import create_app
from authserver.config import Settings

DOCUMENTS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]


@pytest.mark.parametrize("path", DOCUMENTS)
@pytest.mark.parametrize("validator", [AuthorizationServerMetadata, OpenIDProviderMetadata])
def test_discovery_passes_authlibs_metadata_validation(
    settings: Settings, path: str, validator: type
) -> None:
    # Authlib's validators require an https issuer, as a deployment has.
    app = create_app(settings.override(issuer="https://login.example.com"))
    response = app.test_client().get(path)
    assert response.status_code == 200
    validator(response.json).validate()  # raises naming the first missing or wrong field


def test_private_key_jwt_endpoints_list_their_signing_algorithms(client: FlaskClient) -> None:
    metadata = client.get(DOCUMENTS[0]).json
    for endpoint in ("token", "revocation", "introspection"):
        assert "private_key_jwt" in metadata[f"{endpoint}_endpoint_auth_methods_supported"]
        assert "RS256" in metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]


def test_discovery_lists_the_code_flow(client: FlaskClient) -> None:
    metadata = client.get("/.well-known/openid-configuration").json
    assert metadata["authorization_endpoint"] == "http://authserver.test/oauth/authorize"
    assert metadata["end_session_endpoint"] == "http://authserver.test/oauth/logout"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "authorization_code" in metadata["grant_types_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
