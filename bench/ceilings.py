"""The ceilings a served figure is measured against in the same run: a bare Flask endpoint
under `authserver serve`'s Granian settings (bench/bare_app.py), and one raw RS256 signature."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .loadgen import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bare_flask(workers: int) -> Iterator[tuple[str, int]]:
    """A bare Flask endpoint under serve's Granian settings: its URL, and Granian's pid."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
         "--blocking-threads", "2", "--no-ws", "--port", str(port),  # serve's defaults
         "--log-level", "warning", "bench.bare_app:app"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/ping"
    try:
        wait_for(url, process)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def raw_rs256_signature_us() -> float:
    """One RSA-2048 PKCS#1 v1.5 signature by cryptography, in process (a token's size)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from .inprocess import rate
    from .signing_algs import raw_signer

    return 1e6 / rate(raw_signer(rsa.generate_private_key(65537, 2048), "RS256"))
