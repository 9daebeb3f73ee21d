"""Fault injection with real parts: a failing model, broken model files, a database that refuses
writes, and `voicemood run` stopped by SIGTERM or killed by SIGKILL in the middle of a burst."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bots.core.service import VoiceMoodService
from bots.core.values import User, VoiceNote, Where
from bots.i18n import t
from inference.analysis import AnalysisConfig, Analyzer
from inference.labels import CANONICAL_LABELS
from inference.models.hf import HFAudioClassifier
from inference.worker import InferenceWorker, WorkerConfig
from storage.store import Store
from tests.fakes.telegram import Call, FakeTelegram, make_user, private_chat
from tests.service_factory import running_service
from tests.subprocess_env import voicemood_env
from voicemood.cli import main

BURST = 20


class FlakyModel:
    """The tiny HuBERT, except that its forward pass number `fail_on` (0-based) raises."""

    def __init__(self, model: HFAudioClassifier, fail_on: int) -> None:
        self.inner = model
        self.fail_on = fail_on
        self.calls = 0
        self.name = model.name
        self.labels = model.labels

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        call, self.calls = self.calls, self.calls + 1
        if call == self.fail_on:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return self.inner.predict(batch)


def _user(i: int) -> User:
    return User("telegram", str(100 + i), f"User {i}", "en")


def _dm(i: int) -> Where:
    return Where("telegram", str(100 + i), is_group=False)


def _note(data: bytes, message_id: str) -> VoiceNote:
    async def fetch() -> bytes:
        return data

    return VoiceNote(message_id, fetch, size=len(data))


# The model failing mid-batch


async def test_model_failure_fails_only_its_batch_answers_politely_and_the_worker_goes_on(
    tiny_hubert_dir, make_audio, tmp_path
):
    flaky = FlakyModel(HFAudioClassifier.load(str(tiny_hubert_dir)), fail_on=0)
    # Different lengths never share a batch, so the failing forward pass holds one note only.
    short = make_audio("short.ogg", 2.0).read_bytes()
    long = make_audio("long.ogg", 3.0, seed=1).read_bytes()
    async with running_service(flaky, tmp_path, worker=WorkerConfig(max_batch=4)) as service:
        worker = service.analyzer.worker
        replies = await asyncio.gather(
            service.on_voice(_user(1), _dm(1), _note(short, "1")),
            service.on_voice(_user(2), _dm(2), _note(long, "1")),
        )
        after = await service.on_voice(_user(3), _dm(3), _note(short, "1"))
    texts = [r.text for r in replies if r is not None]
    sorry = t("en", "error.error")
    assert len(texts) == 2 and texts.count(sorry) == 1
    assert any("tone" in text for text in texts)
    assert after is not None and "tone" in after.text and after.note_id is not None
    assert worker.stats.failed == 1 and flaky.calls == 3


# Model files missing or corrupt at start


@pytest.fixture
def broken_models(tiny_hubert_dir, tmp_path) -> dict[str, Path]:
    """Copies of the tiny HuBERT with a cut-off weights file, and with garbage for a config."""
    truncated, garbage = tmp_path / "truncated", tmp_path / "garbage"
    for folder in (truncated, garbage):
        folder.mkdir()
        for file in tiny_hubert_dir.iterdir():
            (folder / file.name).write_bytes(file.read_bytes())
    weights = truncated / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    (garbage / "config.json").write_text('{"model_type": "hub', encoding="utf-8")
    return {"truncated": truncated, "garbage": garbage, "nowhere": tmp_path / "no" / "model"}


@pytest.mark.parametrize("command", ["classify", "run"])
@pytest.mark.parametrize("broken", ["truncated", "garbage", "nowhere"])
def test_broken_model_stops_start_up_with_an_error_naming_voicemood_model(
    broken, command, broken_models, make_audio, tmp_path, monkeypatch, capsys
):
    for name in [k for k in os.environ if k.startswith("VOICEMOOD_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOICEMOOD_MODEL", str(broken_models[broken]))
    monkeypatch.setenv("VOICEMOOD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VOICEMOOD_WEB_PORT", "0")
    argv = ["classify", str(make_audio("note.ogg", 1.0))] if command == "classify" else ["run"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "VOICEMOOD_MODEL" in err and str(broken_models[broken]) in err
    assert "Traceback" not in err


async def test_run_with_a_missing_model_exits_2_with_one_clear_line(tmp_path):
    env = _clean_env(VOICEMOOD_MODEL=str(tmp_path / "nowhere"), VOICEMOOD_WEB_PORT="0")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicemood", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    text = err.decode()
    assert process.returncode == 2, text
    assert "VOICEMOOD_MODEL" in text and "Traceback" not in text


# The database refusing writes


async def test_a_read_only_database_keeps_answering_logs_once_and_corrupts_nothing(
    tiny_hubert_dir, make_audio, tmp_path, caplog
):
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    db_path = tmp_path / "db.sqlite3"
    worker = InferenceWorker(HFAudioClassifier.load(str(tiny_hubert_dir)))
    store = await Store.open(db_path, tmp_path / "data", labels=CANONICAL_LABELS)
    async with store, worker:
        service = VoiceMoodService(Analyzer(worker, AnalysisConfig()), store)
        before = await service.on_voice(_user(0), _dm(0), _note(ogg, "1"))
        assert before is not None and before.note_id is not None
        # Root ignores chmod, so the store's own write connection is made read-only instead.
        await store._backend.writer.execute("PRAGMA query_only = ON")  # type: ignore[attr-defined]
        with caplog.at_level(logging.ERROR, logger="bots.service"):
            replies = [
                await service.on_voice(_user(i), _dm(i), _note(ogg, str(i))) for i in range(1, 4)
            ]
    assert all(r is not None and "tone" in r.text and r.note_id is None for r in replies)
    failures = [r for r in caplog.records if "storage failed" in r.message]
    assert len(failures) == 1
    assert _integrity(db_path) == "ok"
    async with await Store.open(db_path, tmp_path / "data", labels=CANONICAL_LABELS) as reopened:
        kept = await reopened.get_note(before.note_id)
        assert kept.label in CANONICAL_LABELS
        assert await reopened.get_person("telegram", _user(1).id) is None


# `voicemood run` stopped or killed mid-burst


async def test_sigterm_during_a_burst_answers_every_taken_note_and_exits_0(
    tiny_hubert_dir, make_audio, tmp_path
):
    ogg = make_audio("note.ogg", 6.0).read_bytes()
    async with FakeTelegram() as fake:
        process, logs = await _start_run(fake, tiny_hubert_dir, tmp_path)
        try:
            users = [make_user(5000 + i, f"U{i}") for i in range(BURST)]
            updates = [fake.send_voice(private_chat(u), u, ogg, 6.0) for u in users]
            await fake.wait_for(lambda c: c.method == "sendMessage", timeout=60)
            process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(process.communicate(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
        logs.extend(part.decode(errors="replace") for part in rest)
        assert process.returncode == 0, "".join(logs)[-3000:]
        answered = _answered_chats(fake)
        pending = {u["update_id"] for u in fake.pending_updates}
    dropped = [
        u["message"]["chat"]["id"]
        for u in updates
        if u["update_id"] not in pending and u["message"]["chat"]["id"] not in answered
    ]
    assert dropped == [], "notes taken from Telegram but never answered"
    assert answered, "SIGTERM came before any answer"


async def test_sigkill_mid_burst_leaves_a_sound_database_with_complete_notes(
    tiny_hubert_dir, make_audio, tmp_path
):
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    async with FakeTelegram() as fake:
        process, logs = await _start_run(fake, tiny_hubert_dir, tmp_path)
        try:
            for i in range(BURST):
                user = make_user(6000 + i, f"K{i}")
                fake.send_voice(private_chat(user), user, ogg, 2.0)
            answered: set[int] = set()

            def third_answer(call: Call) -> bool:
                if call.method == "sendMessage" and call.params.get("text"):
                    answered.add(int(call.params["chat_id"]))
                return len(answered) >= 3

            await fake.wait_for(third_answer, timeout=60)
            process.kill()
            await asyncio.wait_for(process.wait(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
    db_path = tmp_path / "data" / "voicemood.sqlite3"
    async with await Store.open(db_path, tmp_path / "data", labels=CANONICAL_LABELS):
        assert _integrity(db_path) == "ok"
    with sqlite3.connect(db_path) as db:
        notes = db.execute(
            "SELECT label, confidence, duration_s, model, probabilities FROM notes"
        ).fetchall()
    assert len(notes) >= 3
    for label, confidence, duration_s, model, probabilities in notes:
        assert label in CANONICAL_LABELS and 0.0 <= confidence <= 1.0
        assert duration_s > 0 and model.startswith("hf:")
        assert abs(sum(json.loads(probabilities).values()) - 1.0) < 1e-3


def _integrity(db_path: Path) -> str:
    with sqlite3.connect(db_path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _answered_chats(fake: FakeTelegram) -> set[int]:
    return {int(c.params["chat_id"]) for c in fake.calls("sendMessage") if c.params.get("text")}


def _clean_env(**settings: str) -> dict[str, str]:
    return voicemood_env(**settings)


async def _start_run(
    fake: FakeTelegram, model: Path, tmp_path: Path
) -> tuple[asyncio.subprocess.Process, list[str]]:
    """`voicemood run` with Telegram on the fake, no web page; returns once polling started."""
    env = _clean_env(
        VOICEMOOD_MODEL=str(model),
        VOICEMOOD_DATA_DIR=str(tmp_path / "data"),
        VOICEMOOD_TELEGRAM_TOKEN=fake.token,
        VOICEMOOD_TELEGRAM_API_BASE=f"{fake.base_url}/bot",
        VOICEMOOD_TELEGRAM_FILE_BASE=f"{fake.base_file_url}/file/bot",
        VOICEMOOD_WEB_ENABLED="false",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicemood", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    logs: list[str] = []
    assert process.stderr is not None
    async with asyncio.timeout(120):
        while not any(re.search("VoiceMood is running", line) for line in logs):
            line = (await process.stderr.readline()).decode(errors="replace")
            if not line:
                raise AssertionError("voicemood run ended early:\n" + "".join(logs))
            logs.append(line)
    return process, logs
