"""Every hostile or odd input of tests/corpus gets its typed, polite error or a valid answer,
through the CLI, the web API and the Telegram bot: never a crash, a hang or a leaked file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.core.service import VoiceMoodService
from bots.i18n import TEXT
from bots.telegram.app import start_telegram
from bots.web.server import start_web
from common.audio import RECORDING_SUFFIXES as AUDIO_EXTENSIONS
from inference.analysis import AnalysisConfig, Analyzer
from inference.audio import DecodeLimits
from inference.labels import CANONICAL_LABELS
from inference.models.hf import HFAudioClassifier
from inference.worker import InferenceWorker, WorkerConfig
from storage.store import Store
from tests.corpus.make_corpus import (
    CASE_NAMES,
    LIMITS,
    MAX_BYTES,
    MAX_DURATION_S,
    Case,
    build_corpus,
)
from tests.fakes.telegram import Call, FakeTelegram, make_user, private_chat
from tests.subprocess_env import voicemood_env

ERROR_CODES = ("empty", "undecodable", "no_audio", "silent", "too_short", "too_large", "too_long")
CLI_TIME_LIMIT_S = 240.0  # the whole classify call; it loads the model once
PER_INPUT_S = 30.0
ALICE = make_user(5150, "Alice", username="alice")
DM = private_chat(ALICE)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, ffmpeg) -> dict[str, Case]:
    cases = build_corpus(tmp_path_factory.mktemp("corpus"), ffmpeg)
    return {case.name: case for case in cases}


@pytest.fixture(scope="module")
def classified(corpus, tiny_hubert_dir, tmp_path_factory) -> dict[str, Any]:
    """`voicemood classify --json` run once over the whole corpus, with the small limits."""
    private_tmp = tmp_path_factory.mktemp("classify-tmp")
    env = voicemood_env()
    env.update(LIMITS, VOICEMOOD_MODEL=str(tiny_hubert_dir), TMPDIR=str(private_tmp))
    cases = list(corpus.values())
    done = subprocess.run(
        [sys.executable, "-m", "voicemood", "classify", "--json", *(str(c.path) for c in cases)],
        capture_output=True,
        env=env,
        cwd=private_tmp,
        timeout=CLI_TIME_LIMIT_S,
    )
    lines = done.stdout.decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    return {
        "returncode": done.returncode,
        "stderr": done.stderr.decode("utf-8", "replace"),
        "records": dict(zip((c.name for c in cases), records, strict=True)),
        "files": {c.name: str(c.path) for c in cases},
        "tmp_left": sorted(os.listdir(private_tmp)),
    }


def test_the_corpus_has_at_least_forty_cases_covering_every_audio_error(corpus):
    assert len(corpus) >= 40
    assert {case.expect for case in corpus.values()} == {*ERROR_CODES, "answer"}
    assert all(case.path.is_file() for case in corpus.values())


# (a) voicemood classify --json


@pytest.mark.parametrize("name", CASE_NAMES)
def test_classify_json_gives_each_case_its_expected_answer_or_error(classified, corpus, name):
    record = classified["records"][name]
    assert record["file"] == classified["files"][name]
    assert _outcome(record) == corpus[name].expect, record


def test_classify_over_the_corpus_exits_cleanly_without_tracebacks_or_temp_files(classified):
    assert classified["returncode"] == 0, classified["stderr"][-2000:]
    assert "Traceback" not in classified["stderr"]
    assert classified["tmp_left"] == []


# (b) the web API and (c) the Telegram bot, sharing one service, worker and model


@pytest.fixture
async def service(tiny_hubert_dir, tmp_path) -> AsyncIterator[VoiceMoodService]:
    limits = DecodeLimits(max_bytes=MAX_BYTES, max_duration_s=MAX_DURATION_S)
    worker = InferenceWorker(HFAudioClassifier.load(str(tiny_hubert_dir)), WorkerConfig())
    store = await Store.open(tmp_path / "db.sqlite3", tmp_path / "data", labels=CANONICAL_LABELS)
    try:
        async with worker:
            analyzer = Analyzer(worker, AnalysisConfig(limits=limits))
            yield VoiceMoodService(analyzer, store, max_bytes=MAX_BYTES)
    finally:
        await store.close()


@pytest.fixture
def private_tempdir(tmp_path, monkeypatch) -> Path:
    """Temp files made in this process land here, where nobody else's can hide a leak."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


async def test_web_api_answers_every_case_with_its_code_or_a_200_and_leaks_nothing(
    service, corpus, private_tempdir
):
    web = await start_web(service, host="127.0.0.1", port=0, max_bytes=MAX_BYTES)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            warm_up = corpus["opus_voice_note"]
            assert (await _post(http, web.url, warm_up))[0] == 200
            fds_before = _open_fds()
            wrong = []
            for case in corpus.values():
                status, body = await asyncio.wait_for(_post(http, web.url, case), PER_INPUT_S)
                got = "answer" if status == 200 else body.get("code")
                if got != case.expect or not (status == 200 or 400 <= status < 500):
                    wrong.append((case.name, case.expect, status, body))
                elif status != 200:
                    assert body["error"] and "Traceback" not in body["error"]
            assert (await _post(http, web.url, warm_up))[0] == 200, "the API stopped serving"
    finally:
        await web.stop()
    assert wrong == []
    leaked = {fd: target for fd, target in _open_fds().items() if fd not in fds_before}
    assert leaked == {}
    assert not [fd for fd in _open_fds().values() if "memfd:voicemood" in fd]
    assert list(private_tempdir.iterdir()) == []


async def test_telegram_bot_replies_politely_to_every_case_and_keeps_serving(
    service, corpus, private_tempdir, caplog
):
    async with FakeTelegram() as fake:
        bot = await start_telegram(
            service,
            fake.token,
            api_base=f"{fake.base_url}/bot",
            file_base=f"{fake.base_file_url}/file/bot",
            poll_timeout_s=1,
        )
        try:
            sent = {case.name: _send(fake, case) for case in corpus.values()}
            wrong = []
            for name, update in sent.items():
                reply = await _reply_to(fake, update)
                got = _telegram_outcome(reply.params["text"])
                if got != corpus[name].expect:
                    wrong.append((name, corpus[name].expect, reply.params["text"]))
            after = _send(fake, corpus["opus_voice_note"])
            assert _telegram_outcome((await _reply_to(fake, after)).params["text"]) == "answer"
        finally:
            await bot.stop()
    assert wrong == []
    errors = [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert errors == []
    assert not [fd for fd in _open_fds().values() if "memfd:voicemood" in fd]
    assert list(private_tempdir.iterdir()) == []


def _outcome(record: dict[str, Any]) -> str:
    if "error" in record:
        return str(record["code"])
    assert record["label"] in record["probabilities"] and 0 <= record["confidence"] <= 1
    return "answer"


async def _post(http: aiohttp.ClientSession, url: str, case: Case) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    # A browser sends the name as UTF-8; bytes that are not UTF-8 arrive replaced.
    name = os.fsencode(case.path.name).decode("utf-8", "replace")
    form.add_field("audio", case.path.read_bytes(), filename=name)
    async with http.post(url + "api/analyse", data=form) as response:
        return response.status, await response.json()


def _send(fake: FakeTelegram, case: Case) -> dict[str, Any]:
    """A recording as people send it: a named audio file as a document, anything else as voice."""
    data = case.path.read_bytes()
    name = os.fsencode(case.path.name)
    suffix = case.path.suffix.lstrip(".").lower()
    if suffix in AUDIO_EXTENSIONS and suffix != "ogg" and name.isascii():
        return fake.send_document(DM, ALICE, data, file_name=case.path.name)
    return fake.send_voice(DM, ALICE, data, duration=2)


async def _reply_to(fake: FakeTelegram, update: dict[str, Any]) -> Call:
    message = update["message"]

    def replies(call: Call) -> bool:
        quoted = call.params.get("reply_parameters") or {}
        return (
            call.method == "sendMessage"
            and call.params.get("chat_id") == message["chat"]["id"]
            and quoted.get("message_id") == message["message_id"]
        )

    return await fake.wait_for(replies, timeout=PER_INPUT_S)


def _telegram_outcome(text: str) -> str:
    """Which polite sentence the bot sent: an error's (by its fixed opening) or an answer."""
    for code in ERROR_CODES:
        opening = TEXT["en"][f"error.{code}"].split("{", 1)[0]
        if text.startswith(opening):
            return code
    return "answer" if "tone" in text else f"unexpected reply: {text!r}"


def _open_fds() -> dict[str, str]:
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the fd listdir itself used is gone
            fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return fds
