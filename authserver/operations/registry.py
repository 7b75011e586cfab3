"""The API registry as an operation sees it: the built-in APIs and the stored ones."""

from __future__ import annotations

from ..config import Settings
from ..store import Session
from ..store.apis import ApiRegistry, admin_api, load_registry, sample_api


def api_registry(session: Session, settings: Settings) -> ApiRegistry:
    """Every API now: the sample API (the default resource), the administration API, the
    operator's."""
    return load_registry(session, sample_api(settings.api_audience), admin_api(settings.issuer))
