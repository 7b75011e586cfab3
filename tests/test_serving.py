"""The serving model: `authserver serve` runs Granian (WSGI), over real HTTP. Keep-alive, a
worker killed with SIGKILL replaced while the others answer (its counters kept), SIGTERM
letting a request in flight finish, the access log only with --access-log, and `--threads`
meaning the threads that run the app."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import authserver

from .support import ServerProcess, copy_keys, eventually, start_server
from .test_metrics import sample, scrape


def _workers(server: ServerProcess) -> set[int]:
    """The pids of the server's worker processes (the children of Granian's main process)."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _address(server: ServerProcess) -> tuple[str, int]:
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _start_body(server: ServerProcess, body: bytes) -> socket.socket:
    """A token request whose headers are sent and whose body is not (yet): it is in the app,
    on one of its threads, waiting for the rest."""
    sock = socket.create_connection(_address(server))
    sock.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:5])
    time.sleep(0.3)  # let a worker's thread pick it up
    return sock


def _answers(server: ServerProcess, timeout: float) -> bool:
    try:
        return httpx.get(f"{server.base_url}/healthz", timeout=timeout).status_code == 200
    except httpx.TimeoutException:
        return False


@pytest.fixture
def sqlite_server(tmp_path: Path, key_template: Path) -> Iterator[ServerProcess]:
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'serve.db'}",
                          keys_dir=copy_keys(key_template, tmp_path), workers=2)
    try:
        yield server
    finally:
        server.stop()


def test_served_by_granian_with_keep_alive(sqlite_server: ServerProcess) -> None:
    assert "granian" in sqlite_server.log().lower()
    connection = http.client.HTTPConnection(*_address(sqlite_server), timeout=10)
    sockets = []
    stylesheet = (Path(authserver.__file__).parent / "static" / "style.css").read_bytes()
    # Requests on one connection, which stays open between them; the bodies given to Granian
    # as a list (JSON, an error, a HEAD) and as an iterator (a file) each arrive whole.
    for method, path, status, body in (
        ("GET", "/healthz", 200, b'{"status":"ok"}\n'),
        ("GET", "/api/me", 401, None),
        ("HEAD", "/healthz", 200, b""),
        ("GET", "/static/style.css", 200, stylesheet),
        ("GET", "/healthz", 200, b'{"status":"ok"}\n'),
    ):
        connection.request(method, path)
        response = connection.getresponse()
        received = response.read()
        assert response.status == status, path
        assert received == body if body is not None else json.loads(received)["error"]
        sockets.append(connection.sock)  # None had the server closed it
    connection.close()
    assert sockets[0] is not None and sockets == [sockets[0]] * 5


def test_a_killed_worker_is_replaced_and_the_others_keep_answering(
    sqlite_server: ServerProcess,
) -> None:
    server = sqlite_server
    app = server.cli_json("client", "create", "--name", "respawn", "--scope", "profile")
    auth = (app["client_id"], app["client_secret"])
    for _ in range(6):
        assert server.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                auth=auth).status_code == 200
    issued = sample(scrape(server), "authserver_tokens_total",
                    grant_type="client_credentials", outcome="issued")
    assert issued >= 6
    before = _workers(server)
    assert len(before) == 2
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    # Once the kernel has torn it down (a zombie until Granian reaps it), no connection can
    # reach the dead worker any more.
    assert eventually(lambda: _alive(victim), lambda alive: not alive) is False
    # New connections each time: the surviving worker takes them while the other is replaced.
    answers = [httpx.get(f"{server.base_url}/healthz", timeout=10).status_code for _ in range(10)]
    assert answers == [200] * 10
    after = eventually(lambda: _workers(server), lambda pids: len(pids) == 2 and victim not in pids,
                       within=20)
    assert after - before  # a new process, not the old one back
    assert server.process.poll() is None
    assert "Respawning worker" in server.log()
    # The dead worker's counts are still in the sum (prometheus-client's multiprocess files).
    assert sample(scrape(server), "authserver_tokens_total", grant_type="client_credentials",
                  outcome="issued") >= issued


def test_sigterm_lets_a_request_in_flight_finish(sqlite_server: ServerProcess) -> None:
    server = sqlite_server
    body = b"grant_type=client_credentials"
    in_flight = _start_body(server, body)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert server.process.poll() is None  # still running: it waits for the request
    in_flight.sendall(body[5:])
    answer = in_flight.recv(65536)
    in_flight.close()
    assert answer.startswith(b"HTTP/1.1 401")  # answered (no client credentials were sent)
    assert server.process.wait(timeout=15) == 0
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("access_log", [False, True])
def test_the_access_log_is_off_unless_asked_for(
    tmp_path: Path, key_template: Path, access_log: bool
) -> None:
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'log.db'}",
                          keys_dir=copy_keys(key_template, tmp_path), workers=1,
                          serve_options=("--access-log",) if access_log else ())
    try:
        assert server.http.get("/healthz?seen=1").status_code == 200
        # Waited for when it should come; when it should not, a second shows it did not.
        logged = eventually(server.log, lambda text: '"GET /healthz' in text,
                            within=5 if access_log else 1)
        assert ('"GET /healthz' in logged) is access_log
    finally:
        server.stop()


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_are_the_threads_that_run_the_app(
    tmp_path: Path, key_template: Path, threads: int
) -> None:
    """One worker: a request waiting for its body holds one of its threads. With one thread
    nobody else is answered meanwhile; with two, the second thread answers (as it does while
    the first waits on argon2 or the database, which release the GIL)."""
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'threads.db'}",
                          keys_dir=copy_keys(key_template, tmp_path), workers=1,
                          threads=threads)
    try:
        held = _start_body(server, b"grant_type=client_credentials")
        assert _answers(server, 2.0) is (threads == 2)
        held.close()
        assert _answers(server, 10.0)
    finally:
        server.stop()
