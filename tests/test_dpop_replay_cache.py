"""The per-process DPoP jti cache (resource_server/dpop.py MemoryReplayCache) when it is full
of live jtis (more proofs within their minute than its limit): a replay is still refused, and
a proof costs no more than before, where every proof swept the whole cache again under its
lock (~30 ms each at 100,000 live jtis: a worker's throughput cut to ~30 proofs a second)."""

from __future__ import annotations

import time

from authserver.resource_server.dpop import MemoryReplayCache

FOREVER = 2**40


def test_a_full_cache_of_live_jtis_still_refuses_replays_and_grows() -> None:
    cache = MemoryReplayCache(clock=lambda: 1000, limit=10)
    assert all(cache(f"a{i}", FOREVER) for i in range(25))
    assert not any(cache(f"a{i}", FOREVER) for i in range(25))
    assert cache("b", FOREVER) and not cache("b", FOREVER)


def test_stale_jtis_are_swept_out() -> None:
    now = [1000.0]
    cache = MemoryReplayCache(clock=lambda: now[0], limit=10)
    assert all(cache(f"a{i}", 1060) for i in range(10))
    now[0] = 1061
    assert cache("b", 1120)
    assert len(cache._seen) == 1  # the ten stale ones went at the sweep
    assert cache("a0", 1120)  # stale: a proof that old is refused by its iat anyway


def test_proofs_stay_cheap_when_the_cache_is_full_of_live_jtis() -> None:
    cache = MemoryReplayCache(clock=lambda: 1000, limit=100_000)
    for i in range(100_000):
        cache(f"a{i}", FOREVER)
    started = time.perf_counter()
    for i in range(200):
        assert cache(f"b{i}", FOREVER)
    # One sweep of 100,000 takes ~30 ms; 200 proofs each sweeping took ~6 s.
    assert time.perf_counter() - started < 1.0
