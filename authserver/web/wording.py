"""Words the pages use for numbers a person reads."""

from __future__ import annotations

from flask_babel import ngettext


def wait_words(seconds: int) -> str:
    """How long to wait, as a person reads it: "45 seconds", "5 minutes" (rounded up), in the
    page's language."""
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = -(-seconds // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def duration_words(seconds: int) -> str:
    """A setting's length of time, exactly: "5 minutes", or "90 seconds" when it is not
    whole minutes."""
    if seconds % 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    return ngettext("%(num)d minute", "%(num)d minutes", seconds // 60)
