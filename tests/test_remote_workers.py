"""Remote workers with real parts: Debian's redis-server on loopback, real `voicemood worker`
processes loading a tiny compact model through the real loading code, the real RemoteWorker,
and (end to end) the real python-telegram-bot client against the fake Bot API."""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from redis.asyncio import Redis

from bots.i18n import label_name, t
from bots.telegram.app import start_telegram
from inference.analysis import AnalysisConfig, Analyzer
from inference.errors import Busy, InferenceTimeout
from inference.models import load_model
from inference.remote.protocol import GROUP, REPLY, Keys, Reply
from inference.worker import InferenceWorker, Rows
from storage.store import Store
from tests.fakes.telegram import FakeTelegram, make_user, private_chat
from tests.model_factory import compact_folder
from tests.remote_workers import heartbeats, remote, start_worker, worker_env
from tests.servers_redis import redis_prefix, redis_server  # noqa: F401  (fixtures)
from tests.subprocess_env import voicemood_env
from tests.test_cli_run import _web_url
from voicemood.wiring import build_service

VERSION = "v1"
MODEL = f"compact:{VERSION}"
NO_CUES = AnalysisConfig(cues=False)


@pytest.fixture
def model_dir(tmp_path) -> Path:
    return compact_folder(tmp_path / "model", VERSION, seed=1)


def _wave(seed: int, seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 0.1, int(16_000 * seconds)) * (1 + seed % 5)).astype(np.float32)


async def _expected(model_dir: Path, waves: list[np.ndarray]) -> list[np.ndarray]:
    """What the in-process worker answers for each wave, over the same model folder."""
    async with InferenceWorker(load_model(str(model_dir), precision="fp32")) as local:
        return [(await local.run_many([w])).values for w in waves]


async def test_remote_answers_match_the_in_process_workers(
    redis_server, redis_prefix, model_dir, make_audio, tmp_path
):
    notes = [
        make_audio("short.ogg", 2.0, seed=1),
        make_audio("long.ogg", 13.0, seed=2, spoken=True),
    ]
    async with InferenceWorker(load_model(str(model_dir), precision="fp32")) as local:
        expected = [await Analyzer(local, NO_CUES).analyse(n) for n in notes]
    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir)
    try:
        async with remote(redis_server.url, redis_prefix) as client:
            analyzer = Analyzer(client, NO_CUES)
            got = await asyncio.gather(*(analyzer.analyse(n) for n in notes))
            assert client.name == MODEL
    finally:
        assert await worker.stop() == 0, worker.text()[-3000:]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.model == MODEL
        assert mine.label == theirs.label
        for label, p in theirs.probabilities.items():
            assert mine.probabilities[label] == pytest.approx(p, abs=1e-5)
        assert [s.label for s in mine.timeline] == [s.label for s in theirs.timeline]
    assert len(expected[1].timeline) >= 1  # the long note went through as several windows


async def test_a_full_backlog_is_busy_at_once_and_waiting_notes_are_answered_later(
    redis_server, redis_prefix, model_dir, tmp_path
):
    waves = [_wave(i) for i in range(3)]
    async with remote(redis_server.url, redis_prefix, max_backlog=3) as client:
        waiting = [asyncio.create_task(client.run_many([w])) for w in waves]
        redis = Redis.from_url(redis_server.url)
        try:
            async with asyncio.timeout(10):
                while await redis.xlen(Keys(redis_prefix).notes) < 3:  # noqa: ASYNC110 - Redis signals nothing
                    await asyncio.sleep(0.02)
        finally:
            await redis.aclose()
        started = time.monotonic()
        with pytest.raises(Busy):
            await client.run_many([_wave(9)])
        assert time.monotonic() - started < 1.0  # told at once, not after a timeout
        assert not any(task.done() for task in waiting)  # no worker yet: they wait

        worker = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir)
        try:
            answers = await asyncio.wait_for(asyncio.gather(*waiting), timeout=60)
        finally:
            assert await worker.stop() == 0
    for rows, want in zip(answers, await _expected(model_dir, waves), strict=True):
        assert rows.model.name == MODEL
        np.testing.assert_allclose(rows.values, want, atol=1e-5)


async def test_a_worker_killed_mid_burst_leaves_its_notes_to_another_which_answers_each_once(
    redis_server, redis_prefix, model_dir, tmp_path
):
    settings = {"VOICEMOOD_WORKER_NOTES": "20", "VOICEMOOD_WORKER_CLAIM_AFTER_S": "1"}
    first = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir, **settings)
    first_id = next(w.worker_id for w in await heartbeats(redis_server.url, redis_prefix))
    waves = [_wave(i, seconds=12.0) for i in range(30)]
    keys = Keys(redis_prefix)
    redis = Redis.from_url(redis_server.url)
    try:
        async with remote(redis_server.url, redis_prefix, max_backlog=100) as client:
            burst = [asyncio.create_task(client.run_many([w])) for w in waves]
            async with asyncio.timeout(30):
                while not (held := await _pending_of(redis, keys, first_id)):  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
            first.kill()
            await first.process.wait()
            assert held  # it died holding notes it had taken and not answered
            assert await _pending_of(redis, keys, first_id)  # ... and they stay pending

            second = await start_worker(
                tmp_path, redis_server.url, redis_prefix, model_dir, **settings
            )
            try:
                answers = await asyncio.wait_for(asyncio.gather(*burst), timeout=90)
            finally:
                assert await second.stop() == 0
        assert not await _pending_of(redis, keys, first_id)
        assert await redis.xlen(keys.notes) == 0  # every note acknowledged and gone
    finally:
        await redis.aclose()
    assert "left by another worker" in second.text()
    for rows, want in zip(answers, await _expected(model_dir, waves), strict=True):
        np.testing.assert_allclose(rows.values, want, atol=1e-5)


async def _pending_of(redis: Redis, keys: Keys, consumer: str) -> list[object]:
    return list(await redis.xpending_range(keys.notes, GROUP, "-", "+", 100, consumer))


async def test_a_note_processed_twice_is_answered_once(redis_server, redis_prefix):
    """The reply script two workers would both run for one claimed note: one reply, one ack."""
    keys = Keys(redis_prefix)
    redis = Redis.from_url(redis_server.url)
    try:
        await redis.xgroup_create(keys.notes, GROUP, id="0", mkstream=True)
        await redis.set(keys.audio("r1"), b"\0" * 16)
        entry = (await redis.xadd(keys.notes, {"id": "r1"})).decode()
        await redis.xreadgroup(GROUP, "a", {keys.notes: ">"})
        script = redis.register_script(REPLY)
        reply = Reply("r1", "ok", MODEL, ("neutral",), np.ones((1, 1), np.float32))
        fields = [x for pair in reply.fields().items() for x in pair]
        written = [
            await script(
                keys=[keys.done("r1"), keys.replies("c"), keys.notes, keys.audio("r1")],
                args=[GROUP, entry, 60, 100, *fields],
            )
            for _ in range(2)
        ]
        assert written == [1, 0]
        assert await redis.xlen(keys.replies("c")) == 1
        assert await redis.xlen(keys.notes) == 0
        assert not await redis.xpending_range(keys.notes, GROUP, "-", "+", 10)
        assert not await redis.exists(keys.audio("r1"))  # the note's audio goes with its answer
    finally:
        await redis.aclose()


async def test_redis_restarted_mid_burst_every_note_is_answered_or_told_and_the_bot_recovers(
    redis_server, redis_prefix, model_dir, tmp_path
):
    worker = await start_worker(
        tmp_path, redis_server.url, redis_prefix, model_dir, VOICEMOOD_WORKER_NOTES="2"
    )
    try:
        async with remote(redis_server.url, redis_prefix, max_backlog=100) as client:
            burst = [asyncio.create_task(client.run_many([_wave(i, 12.0)])) for i in range(40)]
            async with asyncio.timeout(60):
                while not any(task.done() for task in burst):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            await asyncio.to_thread(redis_server.restart)  # everything it held is lost
            late = [asyncio.create_task(client.run_many([_wave(i)])) for i in range(5)]
            results = await asyncio.wait_for(
                asyncio.gather(*burst, *late, return_exceptions=True), timeout=60
            )
            told = [r for r in results if isinstance(r, Busy | InferenceTimeout)]
            answered = [r for r in results if isinstance(r, Rows)]
            assert len(told) + len(answered) == len(results), results
            assert answered and told
            # By itself (no restart of the bot or the worker), it answers again.
            async with asyncio.timeout(30):
                while True:
                    try:
                        rows = await client.run_many([_wave(99)])
                        break
                    except (Busy, InferenceTimeout):
                        await asyncio.sleep(0.2)
            assert rows.model.name == MODEL
    finally:
        assert await worker.stop() == 0, worker.text()[-3000:]
    assert "creating it again" in worker.text()


async def test_health_lists_live_workers_with_their_model_and_exits_0_1_or_2(
    redis_server, redis_prefix, model_dir, tmp_path
):
    status, text = await _health(worker_env(redis_server.url, redis_prefix, model_dir))
    assert status == 1 and "0 workers alive" in text
    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir)
    try:
        status, text = await _health(worker_env(redis_server.url, redis_prefix, model_dir))
        assert status == 0, text
        assert f"model={MODEL}" in text and f"pid={worker.pid}" in text and "1 workers" in text
    finally:
        assert await worker.stop() == 0
    # A stopped worker removes its heartbeat: none alive again.
    status, text = await _health(worker_env(redis_server.url, redis_prefix, model_dir))
    assert status == 1
    nowhere = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there
    status, text = await _health(worker_env(nowhere, redis_prefix, model_dir))
    assert status == 2 and "cannot be reached" in text and nowhere not in text
    status, text = await _health(voicemood_env())  # no VOICEMOOD_REDIS_URL at all
    assert status == 2 and "set VOICEMOOD_REDIS_URL" in text


async def _health(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicemood",
        "worker",
        "--health",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


ALICE = make_user(1001, "Alice", username="alice")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path) -> str | Path:
    """A SQLite file, or a fresh database on the tests' PostgreSQL server."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_server").fresh_database())
    return tmp_path / "db.sqlite3"


async def test_telegram_voice_note_is_answered_by_a_remote_worker(
    redis_server, redis_prefix, model_dir, make_audio, tmp_path, database
):
    """The scaled setup end to end: PTB, a remote worker over Redis, and SQLite or PostgreSQL."""
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir)
    store = await Store.open(database, tmp_path / "data")
    try:
        async with remote(redis_server.url, redis_prefix) as client, FakeTelegram() as fake:
            service = build_service(Analyzer(client, NO_CUES), store)
            bot = await start_telegram(
                service,
                fake.token,
                api_base=f"{fake.base_url}/bot",
                file_base=f"{fake.base_file_url}/file/bot",
                poll_timeout_s=1,
            )
            try:
                sent = fake.send_voice(private_chat(ALICE), ALICE, ogg, duration=2)
                message = sent["message"]
                answer = await fake.wait_for(
                    lambda c: (
                        c.method == "sendMessage"
                        and (c.params.get("reply_parameters") or {}).get("message_id")
                        == message["message_id"]
                    )
                )
                ok = answer.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                fake.press_button(private_chat(ALICE), ALICE, answer.result["message_id"], ok)
                await fake.wait_for("answerCallbackQuery")
            finally:
                await bot.stop()
        note_id = int(answer.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"][3:])
        stored = await store.get_note(note_id)
        votes = await store.votes(note_id)
    finally:
        await store.close()
        assert await worker.stop() == 0
    text = answer.params["text"]
    assert any(label_name("en", label) in text for label in ("neutral", "happy", "sad", "angry"))
    assert t("en", "error.busy") not in text and t("en", "error.error") not in text
    assert stored.model == MODEL and label_name("en", stored.label) in text
    assert [v.label for v in votes] == [stored.label]  # the 👍 confirmed it, stored once


async def test_voicemood_run_with_a_redis_url_answers_through_a_worker_and_keeps_the_url_out_of_logs(
    redis_server, redis_prefix, model_dir, make_audio, tmp_path
):
    """The real `voicemood run` wiring: no model of its own, the worker's answers on its web API."""
    worker = await start_worker(tmp_path, redis_server.url, redis_prefix, model_dir)
    env = worker_env(redis_server.url, redis_prefix, model_dir)
    env.update(VOICEMOOD_DATA_DIR=str(tmp_path / "data"), VOICEMOOD_WEB_PORT="0")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicemood",
        "run",
        env=env,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    logs: list[str] = []
    try:
        url = await asyncio.wait_for(_web_url(process, logs), timeout=120)
        form = aiohttp.FormData()
        form.add_field("audio", make_audio("n.ogg", 2.0).read_bytes(), filename="n.ogg")
        async with aiohttp.ClientSession() as http:
            async with http.post(url + "api/analyse", data=form) as response:
                assert response.status == 200, await response.text()
                answer = await response.json()
            async with http.get(url + "healthz") as health:
                assert (await health.json())["model"] == MODEL
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.communicate(), timeout=60)
        assert await worker.stop() == 0
    logs.extend(part.decode(errors="replace") for part in rest)
    everything = "".join(logs)
    assert process.returncode == 0, everything[-3000:]
    assert answer["model"] == MODEL and answer["label"] in ("neutral", "happy", "sad", "angry")
    assert redis_server.url not in everything  # the URL may hold a password
