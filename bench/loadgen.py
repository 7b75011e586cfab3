"""Load over HTTP with wrk (Debian package), POST bodies via a generated Lua script."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    # With metered(): the server's CPU time per request (all its processes and threads), and
    # how many cores it kept busy on average.
    server_cpu_us: float | None = None
    server_cores: float | None = None
    requests: int | None = None  # as wrk counted them
    # With metered(database_pid=): the database server's CPU time per request (PostgreSQL's
    # postmaster and every backend), which shares the machine's cores with ours.
    database_cpu_us: float | None = None

    def as_dict(self) -> dict[str, float]:
        figures = {
            "rps": round(self.requests_per_second, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "errors": self.errors,
        }
        if self.server_cpu_us is not None and self.server_cores is not None:
            figures["server_cpu_us_per_request"] = round(self.server_cpu_us)
            figures["server_cores_busy"] = round(self.server_cores, 2)
        if self.database_cpu_us is not None:
            figures["database_cpu_us_per_request"] = round(self.database_cpu_us)
        return figures


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) used so far by a process and all its descendants alive
    now, read from /proc (Linux): Granian's workers, node's thread pool."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime of all its threads
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
                pending.extend(int(child) for child in children)
        except FileNotFoundError:
            continue  # it exited meanwhile
    return total / os.sysconf("SC_CLK_TCK")


def metered(load: Callable[[], LoadResult], pid: int,
            database_pid: int | None = None) -> Callable[[], LoadResult]:
    """The same load, with the CPU the server under `pid` spent on it: what a request costs
    whatever the number of processes or threads the server spreads it over; and the database
    server's under `database_pid`, when given. A load's `prepare()` (making what it spends:
    refresh tokens, say) runs first, outside the measure."""
    prepare = getattr(load, "prepare", None)

    def run() -> LoadResult:
        if prepare is not None:
            prepare()
        database = process_tree_cpu(database_pid) if database_pid else 0.0
        cpu, started = process_tree_cpu(pid), time.perf_counter()
        result = load()
        cpu, elapsed = process_tree_cpu(pid) - cpu, time.perf_counter() - started
        requests = result.requests or result.requests_per_second * elapsed
        if database_pid and requests:
            database = process_tree_cpu(database_pid) - database
            result = replace(result, database_cpu_us=database / requests * 1e6)
        return replace(result, server_cpu_us=cpu / requests * 1e6 if requests else None,
                       server_cores=cpu / elapsed)

    return run


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"cannot read a latency from {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def _lua(method: str, body: str | None, headers: dict[str, str]) -> str:
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append(f'wrk.body = "{body}"')
    for name, value in headers.items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    return "\n".join(lines) + "\n"


def wrk(
    url: str,
    *,
    method: str = "GET",
    body: str | None = None,
    headers: dict[str, str] | None = None,
    connections: int = 16,
    threads: int = 2,
    seconds: int = 5,
) -> LoadResult:
    return wrk_script(url, _lua(method, body, headers or {}), connections=connections,
                      threads=threads, seconds=seconds)


def wrk_script(
    url: str, lua: str, *, connections: int = 16, threads: int = 2, seconds: int = 5
) -> LoadResult:
    """wrk driven by a Lua script (requests that change from one to the next)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", script.name, url],
        capture_output=True, text=True, check=True,
    ).stdout
    Path(script.name).unlink()
    return parse(output)


def parse(output: str) -> LoadResult:
    """Requests/s, p50, p99 and errors from wrk's --latency report."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    # Anchored: "50%" also ends numbers in the Thread Stats table ("72.50%").
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    count = re.search(r"(\d+) requests in", output)
    return LoadResult(rps, p50, p99, errors, requests=int(count.group(1)) if count else None)


def cpu_ratio(results: dict[str, LoadResult], other: str, ours: str,
              with_database: bool = False) -> float:
    """The `other` load's server CPU per request over the `ours` load's (metered loads): above
    1, ours costs less a request. `with_database`: the database's CPU added to each."""

    def cost(result: LoadResult) -> float:
        return (result.server_cpu_us or 0) + (with_database and result.database_cpu_us or 0)

    return round(cost(results[other]) / (cost(results[ours]) or 1), 3)


def median_of(runs: list[LoadResult]) -> LoadResult:
    """The run with the median throughput (its latencies stay consistent with it)."""
    ordered = sorted(runs, key=lambda r: r.requests_per_second)
    middle = ordered[len(ordered) // 2]
    cpu = [r.server_cpu_us for r in runs if r.server_cpu_us is not None]
    cores = [r.server_cores for r in runs if r.server_cores is not None]
    database = [r.database_cpu_us for r in runs if r.database_cpu_us is not None]
    return LoadResult(
        statistics.median(r.requests_per_second for r in runs),
        middle.p50_ms,
        middle.p99_ms,
        sum(r.errors for r in runs),
        statistics.median(cpu) if cpu else None,
        statistics.median(cores) if cores else None,
        database_cpu_us=statistics.median(database) if database else None,
    )


def interleaved(loads: dict[str, Callable[[], LoadResult]], count: int) -> dict[str, LoadResult]:
    """The median of `count` runs of each load, taken in turns (a, b, c, a, b, c, ...), after
    a first round thrown away (node's JIT compiles its hot paths under load; caches fill): the
    machine's speed drifts within minutes, and turns spread the drift over all figures."""
    for load in loads.values():
        load()
    results: dict[str, list[LoadResult]] = {name: [] for name in loads}
    for _ in range(count):
        for name, load in loads.items():
            results[name].append(load())
    return {name: median_of(found) for name, found in results.items()}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early: {process.args}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")
