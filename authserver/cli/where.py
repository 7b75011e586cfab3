"""Where this server's state is: the issuer, the database, the key store, the instance
directory and the audit log, with relative paths made absolute (they follow the working
directory, so `serve` and `status` say where they really are)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from ..config import Settings
from ..db_trouble import without_password


def database_shown(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return f"sqlite:///{Path(parsed.database or '').resolve()}"
    return without_password(url)


def describe_state(settings: Settings) -> dict[str, str]:
    keys = (f"files in {Path(settings.keys_dir).resolve()}" if settings.key_store == "files"
            else "the database (signing_keys)")
    instance = Path(settings.instance_dir).resolve()
    audit = (str(Path(settings.audit_log).resolve()) if settings.audit_log
             else f"stderr (serve), {instance / 'audit.log'} (other commands)")
    return {
        "issuer": settings.issuer,
        "database": database_shown(settings.database_url),
        "key store": keys,
        "instance directory": str(instance),
        "audit log": audit,
    }
