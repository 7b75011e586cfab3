"""A body built in memory goes to the server as a list (web/buffered.py): Granian sends a list
in one call and walks any other iterable a chunk at a time. Streams, files and responses with
work to do at close keep werkzeug's iterator."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response
from werkzeug.test import EnvironBuilder

import authserver


def _call(app: Flask, path: str, method: str = "GET") -> tuple[str, Iterable[bytes]]:
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
        status.append(line)

    body = app(EnvironBuilder(path=path, method=method).get_environ(), start_response)
    return status[0], body


def test_a_json_answer_is_one_bytes_object_in_a_list(app: Flask) -> None:
    status, body = _call(app, "/healthz")
    assert status == "200 OK"
    assert type(body) is list and len(body) == 1
    assert body[0] == b'{"status":"ok"}\n'


def test_an_error_answer_and_a_head_are_lists_too(app: Flask) -> None:
    status, body = _call(app, "/oauth/token")  # a GET: 405 from the app's error handler
    assert status.startswith("405") and type(body) is list
    assert json.loads(body[0])["error"] == "method_not_allowed"
    status, body = _call(app, "/healthz", method="HEAD")
    assert status == "200 OK" and body == [b""]


def test_a_file_keeps_its_iterator_and_is_closed(app: Flask) -> None:
    status, body = _call(app, "/static/style.css")
    assert status == "200 OK" and type(body) is not list
    stylesheet = Path(authserver.__file__).parent / "static" / "style.css"
    assert b"".join(body) == stylesheet.read_bytes()
    body.close()  # type: ignore[attr-defined]


def test_a_response_with_work_at_close_keeps_its_iterator(app: Flask) -> None:
    closed: list[bool] = []

    @app.get("/test-closing")
    def closing() -> Response:
        response = Response("done")
        response.call_on_close(lambda: closed.append(True))
        return response

    status, body = _call(app, "/test-closing")
    assert status == "200 OK" and type(body) is not list
    assert b"".join(body) == b"done" and closed == []
    body.close()  # type: ignore[attr-defined]
    assert closed == [True]


def test_a_generated_body_is_still_streamed(app: Flask) -> None:
    @app.get("/test-stream")
    def stream() -> Response:
        return Response(part for part in ("a", "b", "c"))

    status, body = _call(app, "/test-stream")
    assert status == "200 OK" and type(body) is not list
    assert b"".join(body) == b"abc"
