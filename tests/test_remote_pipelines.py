"""Fewer trips to Redis a note: the bot sets a note's audio and admits its entry in one pipeline,
and a worker sends the replies of notes answered together in one (inference/remote): real
redis-server on loopback, the real RemoteWorker and StreamServer in process."""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import asyncio
import threading

import numpy as np
from redis.asyncio import Redis

from inference.remote.protocol import GROUP, Keys
from inference.remote.serve import ServeConfig, StreamServer
from inference.worker import InferenceWorker, WorkerConfig
from tests.remote_workers import remote
from tests.servers_redis import redis_prefix, redis_server  # noqa: F401  (fixtures)


class _BatchModel:
    """Answers a whole batch once the test opens its gate (in the worker's thread)."""

    name = "batch"
    labels = ("calm", "sad")

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.batches: list[int] = []

    def predict(self, batch: list[np.ndarray]) -> np.ndarray:
        self.gate.wait(timeout=30)  # bounded: a failed test ends
        self.batches.append(len(batch))
        return np.tile(np.array([0.25, 0.75], np.float32), (len(batch), 1))


class _CountingServer(StreamServer):
    """The real worker loop, noting how many replies each pipeline it sends carries."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.pipelines: list[int] = []

    async def _send_outbox(self) -> None:
        self.pipelines.append(len(self._outbox))
        await super()._send_outbox()


async def _pending(redis: Redis, keys: Keys, notes: int) -> None:
    """Until the worker has taken `notes` notes (they wait for its answer, pending)."""
    async with asyncio.timeout(10):
        while int((await redis.xpending(keys.notes, GROUP))["pending"]) < notes:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def _wave(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.1, 8000).astype(np.float32)


async def test_a_batchs_replies_go_back_in_one_pipeline_and_each_note_is_answered_once(
    redis_server, redis_prefix
):
    keys = Keys(redis_prefix)
    model = _BatchModel()
    redis = Redis.from_url(redis_server.url)
    stop = asyncio.Event()
    await redis.xgroup_create(keys.notes, GROUP, id="0", mkstream=True)
    try:
        async with (
            InferenceWorker(model, WorkerConfig(max_batch=4)) as local,  # type: ignore[arg-type]
            remote(redis_server.url, redis_prefix) as client,
        ):
            server = _CountingServer(
                redis, local, ServeConfig(prefix=redis_prefix, notes_at_once=8, worker_id="w")
            )
            serving = asyncio.create_task(server.serve(stop))
            # The first note alone (taken, held at the gate), then the other four queue.
            notes = [asyncio.create_task(client.run_many([_wave(0)]))]
            await _pending(redis, keys, 1)
            notes += [asyncio.create_task(client.run_many([_wave(i)])) for i in range(1, 5)]
            await _pending(redis, keys, 5)
            model.gate.set()
            answers = await asyncio.wait_for(asyncio.gather(*notes), 10)
            stop.set()
            await serving
        assert model.batches == [1, 4]
        assert server.pipelines == [1, 4]  # the batch of four: one pipeline, not four trips
        assert all(np.allclose(rows.values, [[0.25, 0.75]]) for rows in answers)
        assert await redis.xlen(keys.notes) == 0  # every note acknowledged and gone
        assert not await redis.xpending_range(keys.notes, GROUP, "-", "+", 10)
        assert [k async for k in redis.scan_iter(match=keys.audio("*"))] == []
        replies = await redis.xrange(keys.replies(client.client_id))
        assert len(replies) <= 5  # read ones may be trimmed; never one note twice
        ids = [fields[b"id"] for _id, fields in replies]
        assert len(set(ids)) == len(ids)
    finally:
        stop.set()
        await redis.aclose()


async def test_a_redis_that_lost_its_scripts_still_admits_and_answers_notes(
    redis_server, redis_prefix
):
    """Both pipelines send their script by hash; after SCRIPT FLUSH (a restarted Redis keeps
    its data but not its scripts) the bot and the worker load it again and go on."""
    model = _BatchModel()
    model.gate.set()
    redis = Redis.from_url(redis_server.url)
    stop = asyncio.Event()
    try:
        async with (
            InferenceWorker(model) as local,  # type: ignore[arg-type]
            remote(redis_server.url, redis_prefix) as client,
        ):
            config = ServeConfig(prefix=redis_prefix, worker_id="w")
            serving = asyncio.create_task(StreamServer(redis, local, config).serve(stop))
            first = await asyncio.wait_for(client.run_many([_wave(1)]), 10)
            await redis.script_flush()
            second = await asyncio.wait_for(client.run_many([_wave(2)]), 10)
            await redis.script_flush()
            third = await asyncio.wait_for(client.run_many([_wave(3)]), 10)
            stop.set()
            await serving
        for rows in (first, second, third):
            assert rows.model.name == "batch"
            np.testing.assert_allclose(rows.values, [[0.25, 0.75]])
    finally:
        stop.set()
        await redis.aclose()


async def test_a_burst_larger_than_redis_pys_pool_waits_its_turn_and_is_answered(
    redis_server, redis_prefix
):
    """150 notes at once on one replica: redis-py's pool holds 100 connections and refuses the
    next at once, which told a third of the burst the mood reader was restarting. The replica
    hands at most SENDING_AT_ONCE notes to Redis at a time; every note is answered."""
    model = _BatchModel()
    model.gate.set()
    redis = Redis.from_url(redis_server.url)
    stop = asyncio.Event()
    notes = 150
    try:
        async with (
            InferenceWorker(model, WorkerConfig(max_batch=16, max_queue=notes)) as local,  # type: ignore[arg-type]
            remote(redis_server.url, redis_prefix, max_backlog=notes) as client,
        ):
            config = ServeConfig(prefix=redis_prefix, notes_at_once=16, worker_id="w")
            serving = asyncio.create_task(StreamServer(redis, local, config).serve(stop))
            wave = np.resize(_wave(0), 5 * 16_000)  # a 5 s note: 320 kB on its way to Redis
            burst = [client.run_many([wave]) for _ in range(notes)]
            answers = await asyncio.wait_for(asyncio.gather(*burst, return_exceptions=True), 60)
            stop.set()
            await serving
        failed = [a for a in answers if isinstance(a, BaseException)]
        assert failed == []
        assert all(np.allclose(rows.values, [[0.25, 0.75]]) for rows in answers)  # type: ignore[union-attr]
    finally:
        stop.set()
        await redis.aclose()
