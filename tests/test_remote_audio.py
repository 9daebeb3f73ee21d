"""A note's audio travels beside its stream entry, in a Redis key of its own (protocol.py): real
redis-server on loopback, real `voicemood worker` processes over a tiny compact model, the real
RemoteWorker."""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from redis.asyncio import Redis

from inference.errors import Busy
from inference.models import load_model
from inference.remote.protocol import GROUP, Keys, Reply, Request
from inference.remote.serve import ServeConfig, StreamServer
from inference.worker import InferenceWorker, WorkerConfig
from tests.model_factory import compact_folder
from tests.remote_workers import remote, start_worker
from tests.servers_redis import redis_prefix, redis_server  # noqa: F401  (fixtures)

VERSION = "v1"


@pytest.fixture
def model_dir(tmp_path) -> Path:
    return compact_folder(tmp_path / "model", VERSION, seed=1)


def _wave(seed: int, seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 0.1, int(16_000 * seconds)) * (1 + seed % 5)).astype(np.float32)


async def _expected(model_dir: Path, wave: np.ndarray) -> np.ndarray:
    async with InferenceWorker(load_model(str(model_dir), precision="fp32")) as local:
        return (await local.run_many([wave])).values


async def _audio_keys(redis: Redis, keys: Keys) -> list[bytes]:
    return [k async for k in redis.scan_iter(match=keys.audio("*"))]


async def test_a_refused_note_takes_its_audio_along_and_an_answered_one_leaves_none(
    redis_server, redis_prefix, model_dir, tmp_path
):
    keys = Keys(redis_prefix)
    redis = Redis.from_url(redis_server.url)
    try:
        async with remote(redis_server.url, redis_prefix, max_backlog=1) as client:
            waiting = asyncio.create_task(client.run_many([_wave(1)]))
            async with asyncio.timeout(10):
                while await redis.xlen(keys.notes) < 1:  # noqa: ASYNC110 - Redis signals nothing
                    await asyncio.sleep(0.02)
            with pytest.raises(Busy):
                await client.run_many([_wave(2)])
            assert len(await _audio_keys(redis, keys)) == 1  # the waiting note's, not the refused
            ttl = await redis.pttl((await _audio_keys(redis, keys))[0])
            assert 0 < ttl <= (client.remote.request_timeout_s + 60) * 1000  # it expires

            worker = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir)
            try:
                rows = await asyncio.wait_for(waiting, timeout=60)
            finally:
                assert await worker.stop() == 0
        np.testing.assert_allclose(rows.values, await _expected(model_dir, _wave(1)), atol=1e-5)
        assert await _audio_keys(redis, keys) == []
    finally:
        await redis.aclose()


async def test_a_note_whose_audio_is_gone_is_answered_with_an_error_at_once(
    redis_server, redis_prefix, model_dir, tmp_path
):
    keys = Keys(redis_prefix)
    redis = Redis.from_url(redis_server.url)
    try:
        async with remote(redis_server.url, redis_prefix, request_timeout_s=60) as client:
            waiting = asyncio.create_task(client.run_many([_wave(3)]))
            async with asyncio.timeout(10):
                while not await _audio_keys(redis, keys):  # noqa: ASYNC110 - Redis signals nothing
                    await asyncio.sleep(0.02)
            # As if Redis evicted it (maxmemory) before any worker took the note.
            await redis.delete(*await _audio_keys(redis, keys))
            worker = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir)
            try:
                started = time.monotonic()
                with pytest.raises(RuntimeError, match="no longer in Redis"):
                    await asyncio.wait_for(waiting, timeout=30)
                assert time.monotonic() - started < 10  # told, not left to the 60 s timeout
            finally:
                assert await worker.stop() == 0
        assert await redis.xlen(keys.notes) == 0  # acknowledged and gone
    finally:
        await redis.aclose()


async def test_an_entry_carrying_its_audio_inline_as_older_bots_wrote_it_is_answered(
    redis_server, redis_prefix, model_dir, tmp_path
):
    """During a rolling upgrade a bot replica not yet upgraded still puts the PCM in the entry."""
    keys = Keys(redis_prefix)
    wave = _wave(4)
    request = Request("old-1", "predict", keys.replies("old-bot"), time.time() + 60, [wave])
    redis = Redis.from_url(redis_server.url)
    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir)
    try:
        await redis.xadd(keys.notes, {**request.fields(), "pcm": request.audio()})
        async with asyncio.timeout(30):
            while not (found := await redis.xread({keys.replies("old-bot"): "0-0"})):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        assert await worker.stop() == 0
        await redis.aclose()
    reply = Reply.parse(found[0][1][0][1])
    assert reply.status == "ok", reply.message
    assert reply.rows is not None
    np.testing.assert_allclose(reply.rows, await _expected(model_dir, wave), atol=1e-5)


async def test_replies_read_leave_the_reply_stream_within_a_second_or_so(
    redis_server, redis_prefix
):
    redis = Redis.from_url(redis_server.url)
    try:
        async with remote(redis_server.url, redis_prefix) as client:
            stream = client.keys.replies(client.client_id)
            for i in range(300):  # answers to notes nobody waits for any more: read, then dropped
                await redis.xadd(stream, Reply(f"gone-{i}", "busy").fields())
            await asyncio.sleep(1.2)
            await redis.xadd(stream, Reply("gone-300", "busy").fields())
            # Trimmed as Redis trims cheaply: whole nodes of the stream (100 entries each).
            async with asyncio.timeout(10):
                while await redis.xlen(stream) > 100:  # noqa: ASYNC110 - Redis signals nothing
                    await asyncio.sleep(0.05)
    finally:
        await redis.aclose()


class _GatedModel:
    """A model that answers one clip each time the test opens its gate (run in the worker's
    thread, as any model is)."""

    name = "gated"
    labels = ("calm", "sad")

    def __init__(self) -> None:
        self.gate = threading.Semaphore(0)

    def predict(self, batch: list[np.ndarray]) -> np.ndarray:
        for _ in batch:
            self.gate.acquire(timeout=30)  # bounded: a failed test ends
        return np.tile(np.array([0.5, 0.5], np.float32), (len(batch), 1))


async def test_a_busy_worker_reads_again_once_half_its_room_is_free(redis_server, redis_prefix):
    """Fewer reads under load: each brings several notes, and the notes held keep it busy."""
    keys = Keys(redis_prefix)
    model = _GatedModel()
    redis = Redis.from_url(redis_server.url)
    stop = asyncio.Event()
    config = ServeConfig(prefix=redis_prefix, notes_at_once=4, worker_id="w")

    async def held() -> int:  # taken by the worker, not yet answered
        return int((await redis.xpending(keys.notes, GROUP))["pending"])

    async def until_held(n: int) -> None:
        async with asyncio.timeout(10):
            while await held() < n:  # noqa: ASYNC110 - Redis signals nothing
                await asyncio.sleep(0.02)

    await redis.xgroup_create(keys.notes, GROUP, id="0", mkstream=True)
    try:
        async with (
            InferenceWorker(model, WorkerConfig(max_batch=1)) as local,  # type: ignore[arg-type]
            remote(redis_server.url, redis_prefix) as client,
        ):
            serving = asyncio.create_task(StreamServer(redis, local, config).serve(stop))
            notes = [asyncio.create_task(client.run_many([_wave(i, 0.5)])) for i in range(8)]
            try:
                await until_held(4)
                model.gate.release()  # one answered: a quarter of its room free, no read yet
                async with asyncio.timeout(10):
                    while await held() > 3:  # noqa: ASYNC110 - Redis signals nothing
                        await asyncio.sleep(0.02)
                await asyncio.sleep(0.8)
                assert await held() == 3
                model.gate.release()  # half free: it reads two at once
                await until_held(4)
            finally:
                for _ in range(8):  # a failed step must not leave the model waiting forever
                    model.gate.release()
            answers = await asyncio.wait_for(asyncio.gather(*notes), 10)
            stop.set()
            await serving
        assert all(rows.model.name == "gated" for rows in answers)
    finally:
        stop.set()
        await redis.aclose()
