"""The peer: node oidc-provider v9 (bench/peer_node), installed from npm into an ignored
node_modules on first use, started for the run and stopped after."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PEER_DIR = Path(__file__).resolve().parent / "peer_node"
CLIENT_ID, CLIENT_SECRET = "bench", "bench-secret-bench-secret-bench-secret"


@dataclass
class Peer:
    token_url: str
    pid: int  # node's process (its thread pool signs: it may keep more than one core busy)
    body: str = "grant_type=client_credentials&scope=api"
    authorization: str = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


@contextmanager
def oidc_provider(alg: str = "RS256") -> Iterator[Peer]:
    """The peer signing its access tokens with `alg` (RS256 or ES256)."""
    if shutil.which("node") is None:
        raise SystemExit("node is needed for the peer benchmark")
    if not (PEER_DIR / "node_modules" / "oidc-provider").exists():
        # Its report goes to stderr: stdout is the benchmark's JSON.
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=PEER_DIR, check=True, stdout=subprocess.DEVNULL)
    from .loadgen import free_port, wait_for

    port = free_port()
    process = subprocess.Popen(["node", "server.mjs", str(port), alg], cwd=PEER_DIR,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/.well-known/openid-configuration", process)  # type: ignore[arg-type]
    try:
        yield Peer(token_url=f"{url}/token", pid=process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)
