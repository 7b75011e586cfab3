"""What the consent page says each scope lets an application do."""

from __future__ import annotations

from authlib.oauth2.rfc6749.util import scope_to_list
from flask_babel import lazy_gettext

from .. import context

# The OpenID scopes, in the words the consent page shows.
SCOPE_WORDS = {
    "openid": lazy_gettext("Know who you are when you sign in"),
    "profile": lazy_gettext("See your username, name and profile details"),
    "email": lazy_gettext("See your email address"),
    "address": lazy_gettext("See your postal address"),
    "phone": lazy_gettext("See your phone number"),
    "offline_access": lazy_gettext("Keep access while you are away (refresh tokens)"),
    "groups": lazy_gettext("See the groups you belong to"),
}


def scope_groups(scope: str) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """The consent page's list: the OpenID scopes in our words, then each API by name with its
    scopes' descriptions (the operator's text: Jinja escapes it)."""
    registry = context.store().apis.registry()
    groups: dict[str | None, list[tuple[str, str]]] = {}
    for name in scope_to_list(scope) or []:
        api = registry.owner(name)
        words = str(SCOPE_WORDS[name]) if api is None and name in SCOPE_WORDS \
            else registry.description(name) if api is not None else None
        groups.setdefault(api.name if api else None, []).append((name, words or name))
    return list(groups.items())
