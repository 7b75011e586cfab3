"""The pages' and mails' language: English or Korean (Flask-Babel; the catalogs are in
authserver/translations, compiled .mo files shipped in the package).

Chosen by `ui_locales` (OIDC Core §3.1.2.1: the interaction pages take it from the stored
authorization request, other pages from the query or form), then the browser's
Accept-Language, else English.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel, get_locale, refresh
from werkzeug.exceptions import HTTPException

LANGUAGES = ("en", "ko")
DEFAULT = "en"


def first_supported(ui_locales: str | None) -> str | None:
    """The first of space-separated BCP 47 tags we have a catalog for ("ko-KR" is Korean)."""
    for tag in (ui_locales or "").split():
        language = tag.replace("_", "-").split("-")[0].lower()
        if language in LANGUAGES:
            return language
    return None


def select_locale() -> str:
    chosen = first_supported(g.get("ui_locales")) or first_supported(_sent_ui_locales())
    return chosen or request.accept_languages.best_match(LANGUAGES) or DEFAULT


def _sent_ui_locales() -> str | None:
    try:
        return request.values.get("ui_locales")
    except HTTPException:  # a body that cannot be read (too large): the error page's own
        return request.args.get("ui_locales")


def use_ui_locales(ui_locales: str | None) -> None:
    """The page being made answers a request that named its languages (a stored one)."""
    if first_supported(ui_locales):
        g.ui_locales = ui_locales
        refresh()


def install(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_locale=DEFAULT)

    @app.context_processor
    def _language() -> dict[str, str]:
        return {"lang": str(get_locale() or DEFAULT)}  # <html lang>
