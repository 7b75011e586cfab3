"""The DPoP replay cache in Redis (store/dpop_jtis.py), in process against a redis-server of the
test's own: what its connection does when Redis is slow, stops answering, or when an answer
was never read. Across served instances: test_dpop_instances.py."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
import redis
from flask import Flask

from authserver import create_app
from authserver.config import Settings
from authserver.errors import Unavailable
from authserver.store.dpop_jtis import DPoPJtis

from .support import PrivateRedis

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def redis_app(settings: Settings, private_redis: PrivateRedis) -> Iterator[Flask]:
    application = create_app(dataclasses.replace(settings,
                                                 ratelimit_storage_url=private_redis.url))
    yield application
    application.extensions["authserver.db"].dispose()


def _jtis(app: Flask) -> DPoPJtis:
    return app.extensions["authserver.store"].dpop_jtis  # type: ignore[no-any-return]


def _until() -> int:
    return int(time.time()) + 60


def test_an_answer_never_read_is_not_taken_for_the_next(
    redis_app: Flask, private_redis: PrivateRedis
) -> None:
    """A SET sent, then something fails before its answer is read: that answer, still on its
    way, must not answer the next SET (it would accept a replay). Redis is paused so the first
    answer is late."""
    jtis = _jtis(redis_app)
    assert jtis.first_use("used-elsewhere", _until()) is True
    jtis.seen_here.forget("used-elsewhere")  # as if another host had recorded it
    redis.Redis.from_url(private_redis.url).client_pause(300)
    jtis.first_use.start("abandoned", _until())  # its answer is never asked for
    assert jtis.first_use("used-elsewhere", _until()) is False
    assert jtis.first_use("fresh", _until()) is True
    assert jtis.first_use("fresh", _until()) is False


def test_redis_too_slow_is_unavailable_then_recovers(
    redis_app: Flask, private_redis: PrivateRedis
) -> None:
    """No answer within the timeout: Unavailable (a 503), the jti not kept as seen; once Redis
    answers again, the same jti is taken, once."""
    jtis = _jtis(redis_app)
    assert jtis.first_use("warm", _until()) is True  # the connection is open
    redis.Redis.from_url(private_redis.url).client_pause(1500)
    with pytest.raises(Unavailable):
        jtis.first_use("slow", _until())
    time.sleep(1.6)
    assert jtis.first_use("slow", _until()) is True
    assert jtis.first_use("slow", _until()) is False


def test_a_failed_proofs_answer_is_dropped_even_with_redis_gone(
    redis_app: Flask, private_redis: PrivateRedis
) -> None:
    """`drop` (a proof whose signature failed) raises nothing when Redis went away meanwhile;
    the next jti is Unavailable, not an error of another kind."""
    jtis = _jtis(redis_app)
    pending = jtis.first_use.start("forged", _until())
    assert pending is not None
    private_redis.stop()
    pending.drop()
    with pytest.raises(Unavailable):
        jtis.first_use("next", _until())
    private_redis.start()
    assert jtis.first_use("next", _until()) is True


def test_redis_down_is_one_attempt_to_connect(
    redis_app: Flask, private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Redis down, a proof costs one attempt to connect, not two (each may wait for the
    timeout when a host drops packets)."""
    jtis = _jtis(redis_app)
    private_redis.stop()
    attempts: list[int] = []
    connect = redis.connection.Connection._connect

    def counted(self: redis.connection.Connection) -> object:
        attempts.append(1)
        return connect(self)

    monkeypatch.setattr(redis.connection.Connection, "_connect", counted)
    with pytest.raises(Unavailable):
        jtis.first_use("any", _until())
    assert len(attempts) == 1
