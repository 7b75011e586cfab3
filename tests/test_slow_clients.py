"""Slow clients under Granian, and the deployment the README asks for: `authserver serve`
behind a buffering reverse proxy (nginx here).

What holds with Granian: it reads request headers and keeps idle keep-alive connections in
Rust, so clients that send their headers slowly (cut off after 10 s) or that keep a connection
open after their answer hold no Python thread: `serve` answers others meanwhile. A request
body is read by the app on its blocking thread, and Granian has no body read timeout: a client
that sends headers and then trickles (or withholds) its body holds that thread, and a few of
them stall the server. A buffering proxy reads the whole body before passing it on, so through
nginx the same clients delay nobody. The body test first shows the hold on `serve` itself (so
the check through nginx cannot pass by accident).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .nginx_front import nginx_in_front, require_nginx
from .support import ServerProcess, copy_keys, start_server

WORKERS = 2
THREADS = 2  # serve's default
# Enough held connections that every thread of every worker gets some, however they spread.
HELD = WORKERS * THREADS * 4


@pytest.fixture
def proxied(tmp_path: Path, key_template: Path) -> Iterator[tuple[ServerProcess, str]]:
    require_nginx()
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'slow.db'}",
                          keys_dir=copy_keys(key_template, tmp_path), workers=WORKERS,
                          threads=THREADS)
    try:
        with nginx_in_front(tmp_path, [server.base_url]) as front:
            yield server, front
    finally:
        server.stop()


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _lingering(url: str) -> list[socket.socket]:
    """Clients that read their response and then keep the connection open: idle keep-alive
    connections, and connections whose request asked the server to close them."""
    held = []
    for number in range(HELD):
        closing = b"Connection: close\r\n" if number % 2 else b""
        sock = socket.create_connection(_address(url))
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + closing + b"\r\n")
        sock.recv(65536)
        held.append(sock)
    return held


def _slow_senders(url: str, *, headers_done: bool) -> list[socket.socket]:
    """Clients that start a request and never finish it: its headers, or (headers_done) the
    body their Content-Length announced."""
    request = b"POST /oauth/token HTTP/1.1\r\nHost: x\r\n"
    if headers_done:
        request += (b"Content-Type: application/x-www-form-urlencoded\r\n"
                    b"Content-Length: 100\r\n\r\ngrant_type=")
    held = []
    for _ in range(HELD):
        sock = socket.create_connection(_address(url))
        sock.sendall(request)
        held.append(sock)
    time.sleep(0.3)  # let the workers pick them up
    return held


def _answered_within(url: str, timeout: float) -> bool:
    """Whether a normal request got its answer within `timeout` seconds. No latency
    threshold: a held server gives no answer at all while the clients hold it, and an unheld
    one answers well within a generous timeout even on a loaded machine."""
    try:
        return httpx.get(f"{url}/healthz", timeout=timeout).status_code == 200
    except httpx.TimeoutException:
        return False


def _held_within(url: str, seconds: float) -> bool:
    """Whether, within `seconds`, a normal request goes a whole second without its answer: the
    held requests reach the workers' threads in their own time on a loaded machine (a fixed
    pause before one probe let a CI run's probe slip in first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _answered_within(url, 1.0):
            return True
        time.sleep(0.2)
    return False


def _close(held: list[socket.socket]) -> None:
    for sock in held:
        sock.close()
    time.sleep(0.5)


def test_lingering_clients_do_not_hold_serve(proxied: tuple[ServerProcess, str]) -> None:
    server, _ = proxied
    held = _lingering(server.base_url)
    assert _answered_within(server.base_url, 10.0)
    _close(held)


def test_slow_header_senders_do_not_hold_serve(proxied: tuple[ServerProcess, str]) -> None:
    server, _ = proxied
    held = _slow_senders(server.base_url, headers_done=False)
    assert _answered_within(server.base_url, 10.0)
    _close(held)


def test_slow_body_senders_hold_serve_but_not_nginx(proxied: tuple[ServerProcess, str]) -> None:
    server, front = proxied
    held = _slow_senders(server.base_url, headers_done=True)
    assert _held_within(server.base_url, 10.0)  # the hold is real...
    _close(held)
    held = _slow_senders(front, headers_done=True)
    assert _answered_within(front, 10.0)  # ...and nginx absorbs it
    _close(held)
