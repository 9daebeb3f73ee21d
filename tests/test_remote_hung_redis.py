"""A Redis that stops answering is still noticed by a bot replica, even for a note big enough to
fill the socket's buffers: redis-py's send timeout ends that trip (a client that sent without one,
to save its Task and timer per send, would have to bound the trip itself; tried, no CPU saved:
docs/scale.md). A real redis-server of the test's own, stopped with SIGSTOP (alive, connected,
silent), and the real RemoteWorker.
"""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import Iterator

import numpy as np
import pytest

from inference.errors import Busy, InferenceTimeout
from tests.remote_workers import remote
from tests.servers_redis import RedisServer, redis_prefix  # noqa: F401  (a fixture)

SOCKET_TIMEOUT_S = 5.0  # RemoteWorker's: a send's, then its answer's
SLACK_S = 3.0  # a loaded machine's scheduling, on top of the timeouts


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (Debian package: redis-server)")
        pytest.skip("redis-server is not installed (Debian package: redis-server)")
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        _resume(server)
        server.stop()


def _pause(server: RedisServer) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)


def _resume(server: RedisServer) -> None:
    if server.process is not None and server.process.poll() is None:
        server.process.send_signal(signal.SIGCONT)


async def test_a_long_note_to_a_redis_that_stopped_answering_is_busy_not_left_waiting(
    own_redis, redis_prefix
):
    """Ten minutes of PCM (38 MB) fill the socket's buffers, so its send itself waits: the
    send's timeout ends it, and its sender is told to send it again."""
    minute = (0.05 * np.random.default_rng(1).standard_normal(60 * 16_000)).astype(np.float32)
    async with remote(own_redis.url, redis_prefix, request_timeout_s=1) as bot:
        # A connection that has sent a note already, as under load (no new handshake to wait on).
        with pytest.raises(InferenceTimeout):
            await bot.hear([minute[:16_000]])
        _pause(own_redis)
        started = time.monotonic()
        try:
            with pytest.raises(Busy):
                await asyncio.wait_for(bot.hear([minute] * 10), 30)
            assert time.monotonic() - started < 2 * SOCKET_TIMEOUT_S + SLACK_S
        finally:
            _resume(own_redis)
