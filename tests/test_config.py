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
        ({"AUTHSERVER_KEY_STORE": "s3"}, "AUTHSERVER_KEY_STORE must be one of files, database"),
        ({"AUTHSERVER_KEY_STORE": "database"}, "needs AUTHSERVER_KEYS_PASSPHRASE"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


def test_override_of_the_issuer_moves_the_derived_audience_with_it() -> None:
    settings = Settings.from_env({"AUTHSERVER_ISSUER": "https://a.example"})
    assert settings.override(issuer="https://b.example").api_audience == "https://b.example/api"


def test_override_keeps_an_audience_that_was_configured() -> None:
    settings = Settings.from_env({"AUTHSERVER_ISSUER": "https://a.example",
                                  "AUTHSERVER_API_AUDIENCE": "https://api.example"})
    assert settings.override(issuer="https://b.example").api_audience == "https://api.example"


@pytest.mark.parametrize(
    ("name", "unit"),
    [("AUTHSERVER_KEY_SIZE", "bits"), ("AUTHSERVER_DB_POOL_SIZE", "connections"),
     ("AUTHSERVER_TRUSTED_PROXIES", "proxies"), ("AUTHSERVER_ACCESS_TOKEN_TTL", "seconds")],
)
def test_a_bad_number_is_described_in_its_own_unit(name: str, unit: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be a whole number of {unit}, got 'big'"):
        Settings.from_env({name: "big"})


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("TRUE", True),
                                               ("on", True), ("0", False), ("no", False)])
def test_yes_no_settings_read_the_usual_words(raw: str, expected: bool) -> None:
    settings = Settings.from_env({"AUTHSERVER_ISSUER": "http://login.example.com",
                                  "AUTHSERVER_ALLOW_INSECURE_ISSUER": raw}) if expected else None
    if expected:
        assert settings is not None and settings.allow_insecure_issuer is True
    else:
        parsed = Settings.from_env({"AUTHSERVER_ALLOW_INSECURE_ISSUER": raw})
        assert parsed.allow_insecure_issuer is False


def test_a_yes_no_setting_with_another_word_is_refused() -> None:
    with pytest.raises(ConfigError, match="AUTHSERVER_ALLOW_INSECURE_ISSUER must be one of"):
        Settings.from_env({"AUTHSERVER_ALLOW_INSECURE_ISSUER": "maybe"})


def test_a_misspelt_variable_is_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    Settings.from_env({"AUTHSERVER_ACCES_TOKEN_TTL": "60", "AUTHSERVER_TEST_POSTGRES_URL": "x"})
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["AUTHSERVER_ACCES_TOKEN_TTL is not a setting of authserver and is ignored "
                        "(did you mean AUTHSERVER_ACCESS_TOKEN_TTL?)"]


def test_refresh_family_max_age_defaults_to_a_year_and_is_checked() -> None:
    assert Settings.from_env({}).refresh_family_max_age == 365 * 86_400
    assert Settings.from_env({"AUTHSERVER_REFRESH_FAMILY_MAX_AGE": "3600"}).refresh_family_max_age == 3600
    with pytest.raises(ConfigError, match="AUTHSERVER_REFRESH_FAMILY_MAX_AGE must be at least 1"):
        Settings.from_env({"AUTHSERVER_REFRESH_FAMILY_MAX_AGE": "0"})


def test_device_poll_interval_and_logout_retry_delays_are_settings() -> None:
    defaults = Settings.from_env({})
    assert defaults.device_poll_interval == 5
    assert defaults.backchannel_logout_retry_delays == (1.0, 4.0)
    tuned = Settings.from_env({"AUTHSERVER_DEVICE_POLL_INTERVAL": "1",
                               "AUTHSERVER_BACKCHANNEL_LOGOUT_RETRY_DELAYS": "0.1, 0.2,0"})
    assert tuned.device_poll_interval == 1
    assert tuned.backchannel_logout_retry_delays == (0.1, 0.2, 0.0)


@pytest.mark.parametrize(("name", "raw"), [
    ("AUTHSERVER_DEVICE_POLL_INTERVAL", "0"),
    ("AUTHSERVER_DEVICE_POLL_INTERVAL", "soon"),
    ("AUTHSERVER_BACKCHANNEL_LOGOUT_RETRY_DELAYS", "1,,4"),
    ("AUTHSERVER_BACKCHANNEL_LOGOUT_RETRY_DELAYS", "-1"),
    ("AUTHSERVER_BACKCHANNEL_LOGOUT_RETRY_DELAYS", "nan"),
])
def test_bad_poll_interval_or_retry_delays_name_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})
