"""What `--threads` buys: client_credentials alone, and client_credentials while password
grants (argon2id, which releases the GIL) run beside it, with 1 and with 2 threads per worker.

    python -m bench.threads [--seconds 5] [--runs 3]

With one thread a worker that checks a password answers nobody else until the hash is done;
with two, its second thread serves the token requests meanwhile. Figures taken in turns.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
from collections.abc import Callable
from contextlib import ExitStack

from .http import FORM, Authserver, authserver, basic
from .loadgen import LoadResult, interleaved, wrk


def _loads(server: Authserver, seconds: int) -> tuple[Callable[[], LoadResult],
                                                      Callable[[], LoadResult]]:
    cc = server.cli("client", "create", "--name", "bench", "--scope", "profile")
    pw = server.cli("client", "create", "--name", "bench-pw", "--grant-type", "password",
                    "--scope", "notes:read")
    server.cli("user", "create", "--username", "pw", "--password-stdin", stdin="bench-pass-2\n")

    def client_credentials() -> LoadResult:
        return wrk(url=f"{server.url}/oauth/token", method="POST",
                   body="grant_type=client_credentials",
                   headers={"Content-Type": FORM, "Authorization": basic(cc)}, seconds=seconds)

    def beside_passwords() -> LoadResult:
        passwords = threading.Thread(target=wrk, kwargs={
            "url": f"{server.url}/oauth/token", "method": "POST",
            "body": "grant_type=password&username=pw&password=bench-pass-2",
            "headers": {"Content-Type": FORM, "Authorization": basic(pw)},
            "seconds": seconds + 1, "connections": 2})
        passwords.start()
        try:
            return client_credentials()
        finally:
            passwords.join()

    return client_credentials, beside_passwords


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    loads: dict[str, Callable[[], LoadResult]] = {}
    with ExitStack() as servers:
        for threads in (1, 2):
            server = servers.enter_context(authserver(
                f"sqlite:///{tempfile.mkdtemp()}/bench.db", workers=2, threads=threads))
            alone, beside = _loads(server, args.seconds)
            loads[f"cc_threads_{threads}"] = alone
            loads[f"cc_beside_passwords_threads_{threads}"] = beside
        figures = {name: r.as_dict() for name, r in interleaved(loads, args.runs).items()}
    rps = {name: figure["rps"] for name, figure in figures.items()}
    ratios = {
        "cc_2_threads_vs_1": rps["cc_threads_2"] / rps["cc_threads_1"],
        "cc_beside_passwords_2_threads_vs_1":
            rps["cc_beside_passwords_threads_2"] / rps["cc_beside_passwords_threads_1"],
    }
    print(json.dumps({**figures, "ratios": {k: round(v, 3) for k, v in ratios.items()}},
                     indent=2))


if __name__ == "__main__":
    main()
