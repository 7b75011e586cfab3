"""Settings read once from the environment: every key, its default and its check in one place.

Each field of `Settings` is read from `AUTHSERVER_<FIELD NAME>`; its metadata says how (a whole
number with a minimum and a unit, a yes/no, a URL). A misspelt AUTHSERVER_* variable is named in
a warning rather than silently ignored.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from .policy import DEFAULT_SIGNING_ALG, SIGNING_ALGS, is_loopback

log = logging.getLogger("authserver")
PREFIX = "AUTHSERVER_"
# The test suite's own variables (README "Tests"), not settings of the server.
NOT_SETTINGS = ("AUTHSERVER_TEST_", "AUTHSERVER_FUZZ_")
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A setting has a value the server cannot run with; the message names the variable."""


def _whole(minimum: int = 0, unit: str = "", maximum: int | None = None
           ) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            what = f"a whole number of {unit}" if unit else "a whole number"
            raise ConfigError(f"{name} must be {what}, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name} must be at most {maximum} {unit}".rstrip()
                              + f", got {value}")
        return value

    return parse


def _yes_no(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of {', '.join(TRUE_WORDS + FALSE_WORDS)}, got {raw!r}")


def _text(name: str, raw: str) -> str:
    return raw


def _setting(default: Any, parse: Callable[[str, str], Any] = _text) -> Any:
    return field(default=default, metadata={"parse": parse})


def _issuer(raw: str, allow_insecure: bool) -> str:
    parts = urlsplit(raw)
    # OIDC Discovery §2 / RFC 8414 §2: an https URL with no query or fragment.
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"AUTHSERVER_ISSUER must be an http(s) URL, got {raw!r}")
    if parts.query or parts.fragment:
        raise ConfigError("AUTHSERVER_ISSUER must not have a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure:
        # Tokens, codes and passwords would cross the network in the clear (RFC 9700 §2.6).
        raise ConfigError(
            f"AUTHSERVER_ISSUER {raw!r} is plain http on a non-loopback host: use https, or set "
            "AUTHSERVER_ALLOW_INSECURE_ISSUER=1 if TLS ends in front of the server"
        )
    return raw.rstrip("/")


def _one_of(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return raw

    return parse


def _delays(name: str, raw: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name} must be seconds separated by commas (e.g. 1,4), "
                          f"got {raw!r}") from None
    if any(not 0 <= delay <= 3600 for delay in delays):
        raise ConfigError(f"{name}: each delay must be between 0 and 3600 seconds, got {raw!r}")
    return delays


def _algorithms(name: str, raw: str) -> tuple[str, ...]:
    """Space-separated algorithms, each once; the first is the default."""
    algs = tuple(dict.fromkeys(raw.split()))
    for alg in algs:
        if alg not in SIGNING_ALGS:
            raise ConfigError(f"{name}: unknown signing algorithm {alg!r} (supported: "
                              f"{' '.join(SIGNING_ALGS)})")
    if not algs:
        raise ConfigError(f"{name} names no algorithm")
    return algs


def _rate_of(example: str) -> Callable[[str, str], tuple[int, int]]:
    def parse(name: str, raw: str) -> tuple[int, int]:
        """COUNT/SECONDS: at most COUNT in any window of SECONDS, both at least 1."""
        count, slash, seconds = raw.strip().partition("/")
        try:
            rate = (int(count), int(seconds)) if slash and "/" not in seconds else None
        except ValueError:
            rate = None
        if rate is None or min(rate) < 1:
            raise ConfigError(f"{name} must be COUNT/SECONDS with both at least 1 (such as "
                              f"{example}), got {raw!r}")
        return rate

    return parse


_rate = _rate_of("5/300")


def _smtp_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"{name} must be smtp://[user:password@]host:port or smtps://..., "
                          f"got a {parts.scheme or 'schemeless'} URL")
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise ConfigError(f"{name} has a port that is not a number") from None
    return raw


SECONDS = _whole(0, "seconds")
POSITIVE_SECONDS = _whole(1, "seconds")
ONE_YEAR = 365 * 86_400


@dataclass(frozen=True)
class Settings:
    issuer: str = _setting("http://127.0.0.1:5000")
    database_url: str = _setting("sqlite:///instance/authserver.db")
    keys_dir: str = _setting("keys")
    # Where the signing keys live: keys/ on disk, or a table of the database (many hosts, no
    # shared disk; then AUTHSERVER_KEYS_PASSPHRASE is required).
    key_store: str = _setting("files", _one_of("files", "database"))
    keys_passphrase: str | None = _setting(None)
    key_size: int = _setting(2048, _whole(2048, "bits"))
    # What tokens are signed with, each algorithm with its own keys; the first is the default.
    signing_algs: tuple[str, ...] = _setting((DEFAULT_SIGNING_ALG,), _algorithms)
    api_audience: str = _setting("")  # empty means "<issuer>/api", filled in by with_defaults
    access_token_ttl: int = _setting(900, POSITIVE_SECONDS)
    id_token_ttl: int = _setting(900, POSITIVE_SECONDS)
    refresh_token_ttl: int = _setting(1_209_600, POSITIVE_SECONDS)
    # No refresh family is renewed past this age, however fresh its last token: a grant (and
    # its auth_time) cannot live for ever by being refreshed (node-oidc-provider caps it too).
    refresh_family_max_age: int = _setting(ONE_YEAR, POSITIVE_SECONDS)
    # Seconds a just-rotated refresh token is still accepted (only the immediately previous one).
    refresh_grace_seconds: int = _setting(0, SECONDS)
    authorization_code_ttl: int = _setting(60, POSITIVE_SECONDS)
    # DPoP proofs must carry a server nonce (RFC 9449 §8), at the token endpoint and the APIs.
    dpop_nonce: bool = _setting(False, _yes_no)
    # Every client must push its authorization requests (RFC 9126 §5), not only those
    # registered with --require-par.
    require_par: bool = _setting(False, _yes_no)
    # Every sign-in needs two factors (acr "2"), not only those of clients registered with
    # --require-mfa; a user without a second factor sets one up during the sign-in.
    require_mfa: bool = _setting(False, _yes_no)
    # Adding a factor (a passkey, an authenticator app) needs a sign-in at most this old, else
    # the password again (web/recent_sign_in.py); at most a day, or it protects nothing.
    recent_sign_in_max_age: int = _setting(300, _whole(1, "seconds", 86_400))
    # Wrong second-factor codes per account whatever the address: COUNT in SECONDS
    # (ops/ratelimit.py); per account and address they count as failed sign-ins do.
    wrong_code_limit: tuple[int, int] = _setting((10, 3600), _rate_of("10/3600"))
    # How long a device code (RFC 8628) waits for its user.
    device_code_ttl: int = _setting(600, POSITIVE_SECONDS)
    # The interval a device is told to wait between polls (RFC 8628 §3.2; 5 is its default).
    device_poll_interval: int = _setting(5, POSITIVE_SECONDS)
    leeway: int = _setting(60, SECONDS)
    jwks_max_age: int = _setting(600, SECONDS)
    db_pool_size: int = _setting(5, _whole(1, "connections"))
    db_max_overflow: int = _setting(10, _whole(0, "connections"))
    secret_key: str | None = _setting(None)
    allow_insecure_issuer: bool = _setting(False, _yes_no)
    # Where the server keeps local state besides the database: the session secret key.
    instance_dir: str = _setting("instance")
    # Failed-login counters: "memory://" (per process) or "redis://host:port/db" (shared).
    ratelimit_storage_url: str = _setting("memory://")
    audit_log: str | None = _setting(None)  # a file path; the server's stderr when unset
    # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: trust none).
    trusted_proxies: int = _setting(0, _whole(0, "proxies"))
    # Strict-Transport-Security max-age sent on every response when the issuer is https
    # (OWASP ASVS V14.4); 0 sends none (a TLS proxy in front may set it instead).
    hsts_max_age: int = _setting(ONE_YEAR, SECONDS)
    # Dynamic client registration (RFC 7591): off, with an initial access token, or open.
    registration: str = _setting("off", _one_of("off", "token", "open"))
    # The most a client that registers itself may ask for (the operator's registrations,
    # with `client create`, are not bound by it).
    registration_scopes: str = _setting("openid profile email address phone offline_access")
    # Open registration: at most this many registration requests per address per window
    # (COUNT/SECONDS), whatever their outcome; failures are counted apart, as for logins.
    registration_rate: tuple[int, int] = _setting((5, 300), _rate)
    # How long one back-channel logout POST may take (OIDC Back-Channel Logout §2.5).
    backchannel_logout_timeout: int = _setting(5, POSITIVE_SECONDS)
    # Seconds before each retry of a failed back-channel logout delivery (one more attempt
    # than delays): 1 then 4 s, three attempts in all.
    backchannel_logout_retry_delays: tuple[float, ...] = _setting((1.0, 4.0), _delays)
    # How long one call to an upstream OpenID provider (discovery, JWKS, token) may take.
    upstream_timeout: int = _setting(5, POSITIVE_SECONDS)
    # Mail (verification, reset, sign-up): smtp:// (STARTTLS when offered) or smtps://; unset,
    # no mail is sent and the pages offer nothing that needs it.
    smtp_url: str | None = _setting(None, _smtp_url)
    mail_from: str = _setting("")  # empty means authserver@<issuer host>
    # How long one SMTP conversation may take, in the background sender.
    smtp_timeout: int = _setting(10, POSITIVE_SECONDS)
    # Who may create an account at /account/signup: nobody, or anyone (verified by mail).
    signup: str = _setting("off", _one_of("off", "open"))
    email_token_ttl: int = _setting(86_400, POSITIVE_SECONDS)
    reset_token_ttl: int = _setting(1_800, POSITIVE_SECONDS)
    # A directory whose templates/ and static/ replace the built-in files of the same name.
    theme_dir: str | None = _setting(None)

    @property
    def longest_token_ttl(self) -> int:
        """How long a signature may stay in use: what a retired key must outlive."""
        return max(self.access_token_ttl, self.id_token_ttl)

    def with_defaults(self) -> Settings:
        issuer = _issuer(self.issuer, self.allow_insecure_issuer)
        if self.key_store == "database" and not self.keys_passphrase:
            # Private keys in a database are encrypted, always: dumps and replicas travel.
            raise ConfigError("AUTHSERVER_KEY_STORE=database needs AUTHSERVER_KEYS_PASSPHRASE "
                              "(the private keys are stored encrypted with it)")
        if self.signup == "open" and not self.smtp_url:
            # A new account is verified by a mailed link: sign-up without mail cannot finish.
            raise ConfigError("AUTHSERVER_SIGNUP=open needs AUTHSERVER_SMTP_URL (new accounts "
                              "are verified by mail)")
        mail_from = self.mail_from or f"authserver@{urlsplit(issuer).hostname}"
        return replace(self, issuer=issuer, api_audience=self.api_audience or f"{issuer}/api",
                       mail_from=mail_from)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in fields(cls):
            raw = env.get(PREFIX + setting.name.upper())
            if raw is None or raw == "":
                continue  # unset or empty: the default
            values[setting.name] = setting.metadata["parse"](PREFIX + setting.name.upper(), raw)
        _warn_unknown(env)
        return cls(**values).with_defaults()

    def override(self, **changes: object) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        if ("issuer" in changes and "api_audience" not in changes
                and self.api_audience == f"{self.issuer}/api"):
            changes["api_audience"] = ""  # derived from the issuer: derive it again
        return replace(self, **changes).with_defaults()  # type: ignore[arg-type]


def variable_names() -> list[str]:
    return [PREFIX + setting.name.upper() for setting in fields(Settings)]


def _warn_unknown(env: Mapping[str, str]) -> None:
    known = variable_names()
    for name in sorted(env):
        if not name.startswith(PREFIX) or name in known or name.startswith(NOT_SETTINGS):
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        log.warning("%s is not a setting of authserver and is ignored%s", name, hint)
