"""A browser's User-Agent in a few words for the account page ("Firefox on Linux").

Hand-written: the account page needs a name, not a full parser (no library in our
dependencies does this).
"""

from __future__ import annotations

# Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
            ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"),
            ("curl/", "curl"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
           ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
           ("Linux", "Linux"))


def browser_name(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or user_agent[:60]
