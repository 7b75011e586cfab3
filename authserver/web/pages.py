"""Our HTML pages' one rule: rendered with the session's CSRF token, never cached."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

from .session import csrf_token


def page(template: str, status: int = 200, **values: Any) -> Response:
    response = Response(render_template(template, csrf_token=csrf_token(), **values), status)
    response.headers["Cache-Control"] = "no-store"
    return response
