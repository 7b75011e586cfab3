"""The test suite's own port picker (support.free_port): two servers of one test must never be
handed the same port. The README test once was (its Orders service could not bind, and its
request went to the authorization server on the same port)."""

from __future__ import annotations

from .support import free_port


def test_ports_handed_out_one_after_another_are_all_different() -> None:
    # 200 picks at random among the worker's 1,500 ports would repeat one almost surely.
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
