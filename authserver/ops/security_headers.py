"""Security headers on every response; a strict Content Security Policy on HTML pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g

# The pages have no scripts and load only our stylesheet.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'{extra}"
)


def allow_form_redirect_to(uri: str) -> None:
    """Let this page's form lead to `uri`'s origin: Chromium applies form-action to the
    redirect that follows a form post, and the consent form ends in a redirect to the client."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        g.csp_form_action = f"{parts.scheme}://{parts.netloc}"
    elif parts.scheme:
        g.csp_form_action = f"{parts.scheme}:"


def install(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":
            extra = g.get("csp_form_action")
            response.headers["Content-Security-Policy"] = PAGE_POLICY.format(
                extra=f" {extra}" if extra else ""
            )
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Cache-Control"] = "no-store"
        return response
