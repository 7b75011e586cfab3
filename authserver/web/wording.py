"""Words the pages use for numbers a person reads."""

from __future__ import annotations


def wait_words(seconds: int) -> str:
    """How long to wait, as a person reads it: "45 seconds", "5 minutes" (rounded up)."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
