"""A whole sign-in in process, beside the argon2id verification it contains (same run):
the authorization request, the login form, the consent form, the code exchange. Also the
issue's own measure (#34 goal 5: the login POST, the consent and the code exchange, without
the authorization request that shows the login page), each request's CPU time, and the SQL
statements each runs.

    python -m bench.signin

The pages are followed as a browser would (each form's action), so the same script measures
an older checkout too: copy it outside bench/ (whose http.py shadows the standard library's
when the script is run by path) and run it with that checkout's Python.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from argon2 import PasswordHasher
from sqlalchemy import event, select

from authserver import create_app
from authserver.config import Settings
from authserver.db import migrate
from authserver.keystore import KeyStore
from authserver.models import User
from authserver.store.clients import register_client
from authserver.store.users import create_user

PASSWORD = "correct horse battery"
REDIRECT = "https://app.example.com/cb"
SIGN_INS = 40


def _form(html: str, url: str) -> tuple[str, dict[str, str]]:
    """The page's form: where it posts (an empty action is the page itself) and its hidden
    fields."""
    action = re.search(r'<form method="post" action="([^"]*)"', html)
    target = (action.group(1).replace("&amp;", "&") if action else "") or url
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return target, hidden


def sign_in(browser: Any, client_id: str, password: str = PASSWORD,
            step: Callable[[str], None] = lambda _: None, username: str = "bench") -> Any:
    """One whole sign-in of `username` in `browser` (a Flask test client, or an httpx client
    with the server's base URL: bench/signin_http.py): the authorization request, the login
    form, the consent form (prompt=consent), the code exchange; `step` is told which of them
    is running. Returns the token response."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "nonce": secrets.token_urlsafe(8),
        "prompt": "consent", "code_challenge": challenge, "code_challenge_method": "S256"})
    step("authorize")
    page = browser.get(url).text
    target, hidden = _form(page, url)
    step("login")
    consent = browser.post(target, data={**hidden, "username": username,
                                         "password": password}).text
    target, hidden = _form(consent, url)
    step("consent")
    answer = browser.post(target, data={**hidden, "decision": "allow"})
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    step("token")
    tokens = browser.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    step("-")
    return tokens


def main() -> None:
    directory = Path(tempfile.mkdtemp())
    settings = Settings(issuer="http://bench.test", allow_insecure_issuer=True,
                        database_url=f"sqlite:///{directory / 'bench.db'}",
                        keys_dir=str(directory / "keys"),
                        instance_dir=str(directory / "instance")).with_defaults()
    migrate(settings)
    KeyStore.from_settings(settings).ensure()
    app = create_app(settings)
    database = app.extensions["authserver.db"]
    with database.session() as session:
        client_id = register_client(session, name="bench", grant_types=["authorization_code"],
                                    redirect_uris=[REDIRECT], auth_method="none",
                                    scope="openid profile").client.client_id
        create_user(session, username="bench", password=PASSWORD)
    with database.session() as session:
        stored_hash = session.scalar(select(User.password_hash).where(User.username == "bench"))

    statements: dict[str, int] = {}
    step = ["-"]
    step_cpu: dict[str, list[float]] = {}
    step_started = [0.0]

    @event.listens_for(database.engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        statements[step[0]] = statements.get(step[0], 0) + 1

    def next_step(name: str) -> None:
        now = time.thread_time()
        if step[0] != "-":
            step_cpu.setdefault(step[0], []).append(now - step_started[0])
        step[0], step_started[0] = name, now

    def one_sign_in() -> None:
        sign_in(app.test_client(), client_id, step=next_step)

    hasher = PasswordHasher()  # verifies with the parameters the stored hash names
    one_sign_in()  # warm up (caches, first key load)
    statements.clear()
    step_cpu.clear()
    # A sign-in and a raw verification in turns, so a busy machine's drift falls on both; wall
    # time and this thread's CPU time (argon2 with p=1 runs on this thread; a hash with p>1
    # runs lanes on threads of its own, which thread_time does not see: compare wall then).
    timed: dict[str, list[tuple[float, float]]] = {"sign_in": [], "argon2": []}
    for _ in range(3 * SIGN_INS):
        for name, action in (("sign_in", one_sign_in),
                             ("argon2", lambda: hasher.verify(stored_hash, PASSWORD))):
            start, start_cpu = time.perf_counter(), time.thread_time()
            action()
            timed[name].append((time.perf_counter() - start, time.thread_time() - start_cpu))
    sign_in_s = statistics.median(wall for wall, _ in timed["sign_in"])
    argon2_s = statistics.median(wall for wall, _ in timed["argon2"])
    sign_in_cpu = statistics.median(cpu for _, cpu in timed["sign_in"])
    argon2_cpu = statistics.median(cpu for _, cpu in timed["argon2"])
    total = 3 * SIGN_INS
    per_step = {name: statistics.median(times) for name, times in step_cpu.items()}
    # The measure: the three requests after the login page, each step's median.
    posts_cpu = per_step["login"] + per_step["consent"] + per_step["token"]
    print(json.dumps({
        "checkout": str(Path(sys.modules["authserver"].__file__ or "").parent.parent),
        "sign_in_ms": round(sign_in_s * 1000, 2),
        "argon2_verify_ms": round(argon2_s * 1000, 2),
        "sign_in_vs_argon2": round(sign_in_s / argon2_s, 3),
        "sign_in_cpu_ms": round(sign_in_cpu * 1000, 2),
        "argon2_verify_cpu_ms": round(argon2_cpu * 1000, 2),
        "sign_in_vs_argon2_cpu": round(sign_in_cpu / argon2_cpu, 3),
        "cpu_ms_per_request": {name: round(cpu * 1000, 2) for name, cpu in per_step.items()},
        "login_consent_token_cpu_ms": round(posts_cpu * 1000, 2),
        "login_consent_token_vs_argon2_cpu": round(posts_cpu / argon2_cpu, 3),
        "argon2_parameters": stored_hash.split("$")[3],
        "sql_statements_per_sign_in": {k: round(v / total, 1) for k, v in statements.items()},
    }, indent=2))


if __name__ == "__main__":
    main()
