"""Settings read once from the environment: every key, its default and its check in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting has a value the server cannot run with; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _issuer(raw: str, allow_insecure: bool) -> str:
    parts = urlsplit(raw)
    # OIDC Discovery §2 / RFC 8414 §2: an https URL with no query or fragment.
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"AUTHSERVER_ISSUER must be an http(s) URL, got {raw!r}")
    if parts.query or parts.fragment:
        raise ConfigError("AUTHSERVER_ISSUER must not have a query or fragment")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and not allow_insecure:
        # Tokens, codes and passwords would cross the network in the clear (RFC 9700 §2.6).
        raise ConfigError(
            f"AUTHSERVER_ISSUER {raw!r} is plain http on a non-loopback host: use https, or set "
            "AUTHSERVER_ALLOW_INSECURE_ISSUER=1 if TLS ends in front of the server"
        )
    return raw.rstrip("/")


@dataclass(frozen=True)
class Settings:
    issuer: str = "http://127.0.0.1:5000"
    database_url: str = "sqlite:///instance/authserver.db"
    keys_dir: str = "keys"
    keys_passphrase: str | None = None
    key_size: int = 2048
    api_audience: str = ""  # empty means "<issuer>/api", filled in by from_env / with_defaults
    access_token_ttl: int = 900
    id_token_ttl: int = 900
    refresh_token_ttl: int = 1_209_600
    # Seconds a just-rotated refresh token is still accepted (only the immediately previous one).
    refresh_grace_seconds: int = 0
    authorization_code_ttl: int = 60
    leeway: int = 60
    jwks_max_age: int = 600
    db_pool_size: int = 5
    db_max_overflow: int = 10
    secret_key: str | None = None
    allow_insecure_issuer: bool = False
    # Where the server keeps local state besides the database: the session secret key.
    instance_dir: str = "instance"
    # Failed-login counters: "memory://" (per process) or "redis://host:port/db" (shared).
    ratelimit_storage_url: str = "memory://"
    audit_log: str | None = None  # a file path; stderr when unset
    # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: trust none).
    trusted_proxies: int = 0

    @property
    def longest_token_ttl(self) -> int:
        """How long a signature may stay in use: what a retired key must outlive."""
        return max(self.access_token_ttl, self.id_token_ttl)

    def with_defaults(self) -> Settings:
        issuer = _issuer(self.issuer, self.allow_insecure_issuer)
        return replace(self, issuer=issuer, api_audience=self.api_audience or f"{issuer}/api")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        settings = cls(
            issuer=env.get("AUTHSERVER_ISSUER") or d.issuer,
            database_url=env.get("AUTHSERVER_DATABASE_URL") or d.database_url,
            keys_dir=env.get("AUTHSERVER_KEYS_DIR") or d.keys_dir,
            keys_passphrase=env.get("AUTHSERVER_KEYS_PASSPHRASE") or None,
            key_size=_int(env, "AUTHSERVER_KEY_SIZE", d.key_size, minimum=2048),
            api_audience=env.get("AUTHSERVER_API_AUDIENCE") or "",
            access_token_ttl=_int(env, "AUTHSERVER_ACCESS_TOKEN_TTL", d.access_token_ttl, 1),
            id_token_ttl=_int(env, "AUTHSERVER_ID_TOKEN_TTL", d.id_token_ttl, 1),
            refresh_token_ttl=_int(env, "AUTHSERVER_REFRESH_TOKEN_TTL", d.refresh_token_ttl, 1),
            refresh_grace_seconds=_int(
                env, "AUTHSERVER_REFRESH_GRACE_SECONDS", d.refresh_grace_seconds
            ),
            authorization_code_ttl=_int(
                env, "AUTHSERVER_AUTHORIZATION_CODE_TTL", d.authorization_code_ttl, 1
            ),
            leeway=_int(env, "AUTHSERVER_LEEWAY", d.leeway),
            jwks_max_age=_int(env, "AUTHSERVER_JWKS_MAX_AGE", d.jwks_max_age),
            db_pool_size=_int(env, "AUTHSERVER_DB_POOL_SIZE", d.db_pool_size, 1),
            db_max_overflow=_int(env, "AUTHSERVER_DB_MAX_OVERFLOW", d.db_max_overflow),
            secret_key=env.get("AUTHSERVER_SECRET_KEY") or None,
            allow_insecure_issuer=env.get("AUTHSERVER_ALLOW_INSECURE_ISSUER", "") in ("1", "true"),
            instance_dir=env.get("AUTHSERVER_INSTANCE_DIR") or d.instance_dir,
            ratelimit_storage_url=env.get("AUTHSERVER_RATELIMIT_STORAGE_URL")
            or d.ratelimit_storage_url,
            audit_log=env.get("AUTHSERVER_AUDIT_LOG") or None,
            trusted_proxies=_int(env, "AUTHSERVER_TRUSTED_PROXIES", d.trusted_proxies),
        )
        return settings.with_defaults()

    def override(self, **changes: object) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(self, **changes).with_defaults()  # type: ignore[arg-type]
