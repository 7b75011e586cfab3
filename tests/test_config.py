"""Settings from the environment: defaults, validation, clear errors."""

from __future__ import annotations

import pytest

from authserver.config import ConfigError, Settings


def test_defaults_match_the_interface() -> None:
    settings = Settings.from_env({})
    assert settings.issuer == "http://127.0.0.1:5000"
    assert settings.database_url == "sqlite:///instance/authserver.db"
    assert settings.keys_dir == "keys"
    assert settings.api_audience == "http://127.0.0.1:5000/api"
    assert (settings.access_token_ttl, settings.id_token_ttl) == (900, 900)
    assert settings.refresh_token_ttl == 1_209_600
    assert (settings.leeway, settings.jwks_max_age) == (60, 600)


def test_https_issuer_and_trailing_slash() -> None:
    settings = Settings.from_env({"AUTHSERVER_ISSUER": "https://login.example.com/"})
    assert settings.issuer == "https://login.example.com"
    assert settings.api_audience == "https://login.example.com/api"


@pytest.mark.parametrize("host", ["http://localhost:8000", "http://[::1]:5000", "http://127.0.0.1"])
def test_plain_http_is_allowed_on_loopback(host: str) -> None:
    assert Settings.from_env({"AUTHSERVER_ISSUER": host}).issuer == host


def test_plain_http_elsewhere_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="AUTHSERVER_ALLOW_INSECURE_ISSUER"):
        Settings.from_env({"AUTHSERVER_ISSUER": "http://login.example.com"})
    allowed = Settings.from_env({"AUTHSERVER_ISSUER": "http://login.example.com",
                                 "AUTHSERVER_ALLOW_INSECURE_ISSUER": "1"})
    assert allowed.issuer == "http://login.example.com"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"AUTHSERVER_ISSUER": "ftp://x"}, "http(s) URL"),
        ({"AUTHSERVER_ISSUER": "https://x/?a=1"}, "query"),
        ({"AUTHSERVER_ACCESS_TOKEN_TTL": "soon"}, "AUTHSERVER_ACCESS_TOKEN_TTL"),
        ({"AUTHSERVER_ACCESS_TOKEN_TTL": "0"}, "at least 1"),
        ({"AUTHSERVER_KEY_SIZE": "1024"}, "at least 2048"),
        ({"AUTHSERVER_LEEWAY": "-5"}, "at least 0"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)
