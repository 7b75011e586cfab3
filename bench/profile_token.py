"""Where a token request's time goes inside a worker of `authserver serve`: py-spy
samples one worker while wrk loads the token endpoint, and the samples are grouped into the
parts of the request (inclusive shares of the time the worker spent in the app).

    python -m bench.profile_token [--seconds 10] [--database sqlite|postgresql]
                                  [--grant client_credentials|refresh_token]

Needs wrk and py-spy (pip install py-spy; sampling another process needs ptrace rights, e.g.
root in a container). Prints JSON: each part's share, and the top functions by own time.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from .http import (
    FORM,
    authserver,
    basic,
    postgres_schema,
    protected_and_unprotected,
    refresh_tokens,
)
from .loadgen import wrk

# A part of the request: the first pattern found in a sample's stack names it (in this order:
# the signature inside token generation counts as signing, not as Authlib).
PARTS = [
    ("resource protector (token check)", r"resource_server/"),
    ("RSA-2048 signature (joserfc -> cryptography)", r"_RSAAlgModel\.sign"),
    ("rest of token building (claims, JSON, base64)", r"AccessTokenGenerator\.issue"),
    ("refresh token claim and insert (store)", r"store/refresh_tokens\.py"),
    ("client authentication (cache, version read)", r"authenticate_client\b|ClientAuthentication"),
    ("body read and form parsing (werkzeug)", r"Request\.form|get_data|_load_form_data"),
    ("request checks (NUL, duplicates, throttle)", r"_refuse_|_one_way_to_say|retry_after"),
    ("audit line and metrics", r"events\.py|audit\.py|metrics\.py"),
    ("commit / session end", r"Store\.(commit|close|rollback)|_end_unit_of_work"),
    ("Flask request context and routing", r"RequestContext\.|create_url_adapter|match_request"),
    ("Authlib grant and response handling", r"authlib/"),
    ("Flask dispatch, hooks and response", r"flask/|werkzeug/"),
]


def _frames(stack: str) -> list[str]:
    return [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]


def summarise(raw: str) -> dict[str, object]:
    parts: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = _frames(stack)
        if not any("Flask.wsgi_app" in frame for frame in frames):
            continue  # Granian's threads waiting for work
        samples = int(count)
        total += samples
        joined = ";".join(frames)
        name = next((name for name, pattern in PARTS if re.search(pattern, joined)), "other")
        parts[name] += samples
        own[frames[-1]] += samples
    share = {name: round(100 * n / total, 1) for name, n in parts.most_common()} if total else {}
    top = {f: round(100 * n / total, 1) for f, n in own.most_common(12)} if total else {}
    return {"app_samples": total, "parts_percent": share, "top_own_time_percent": top}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--grant", choices=["client_credentials", "refresh_token", "api_me"],
                        default="client_credentials",
                        help="api_me: GET /api/me with one client_credentials token")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    with ExitStack() as stack:
        url = (stack.enter_context(postgres_schema()) if args.database == "postgresql"
               else f"sqlite:///{tempfile.mkdtemp()}/bench.db")
        # One thread per worker: each sample is then the one request's own time (its waits
        # included), not a second thread idling while the first works. (--gil would miss the
        # RSA signature: cryptography releases the GIL while it signs.)
        server = stack.enter_context(authserver(url, workers=2, threads=1))
        pid = server.process.pid
        workers = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        out = Path(tempfile.mkdtemp()) / "profile.txt"
        if args.grant == "refresh_token":
            load = threading.Thread(target=refresh_tokens(server, args.seconds + 2))
        elif args.grant == "api_me":
            protected, _ = protected_and_unprotected(server, args.seconds + 2)
            load = threading.Thread(target=protected)
        else:
            client = server.cli("client", "create", "--name", "bench", "--scope", "profile")
            load = threading.Thread(target=wrk, kwargs={
                "url": f"{server.url}/oauth/token", "method": "POST",
                "body": "grant_type=client_credentials",
                "headers": {"Content-Type": FORM, "Authorization": basic(client)},
                "seconds": args.seconds + 2})
        load.start()
        subprocess.run(["py-spy", "record", "-p", workers[0], "-d", str(args.seconds),
                        "-r", "500", "-f", "raw", "-o", str(out), "--nonblocking"],
                       check=True, capture_output=True)
        load.join()
        print(json.dumps(summarise(out.read_text()), indent=2))
        print(f"raw samples (py-spy's raw format): {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
