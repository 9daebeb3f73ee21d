"""Structured logs: one JSON object per line when asked, and never a configured secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import sys

from tests.fakes.telegram import FakeTelegram, make_user, private_chat
from tests.subprocess_env import voicemood_env
from voicemood.logs import REDACTED, configure_logging

ALICE = make_user(4343, "Alice", username="alice")
TOKEN = "123456:AAHsecretPartOfTheToken_xyz"


def _configured(as_json: bool) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    configure_logging(logging.DEBUG, as_json, secrets=[TOKEN], stream=stream)
    return logging.getLogger("voicemood.test"), stream


def test_json_lines_carry_time_level_logger_message_and_extra_fields():
    log, stream = _configured(as_json=True)
    try:
        log.info("note %s analysed", 7, extra={"chat": 99, "label": "hap"})
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            log.exception("it failed")
    finally:
        logging.getLogger().handlers.clear()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO" and first["logger"] == "voicemood.test"
    assert first["msg"] == "note 7 analysed" and first["chat"] == 99 and first["label"] == "hap"
    assert first["ts"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc"]


def test_secrets_are_redacted_from_message_arguments_extras_and_tracebacks():
    log, stream = _configured(as_json=False)
    secret = TOKEN.split(":", 1)[1]
    try:
        log.debug("GET https://api.telegram.org/bot%s/getMe", TOKEN, extra={"url": TOKEN})
        log.warning("only the secret part: %s", secret)
        try:
            raise RuntimeError(f"bad url .../bot{TOKEN}/x")
        except RuntimeError:
            log.exception("request failed")
    finally:
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    assert secret not in text
    assert text.count(REDACTED) >= 3
    assert len(text.splitlines()) == 3, "a traceback must stay on its event's line"


async def test_run_with_json_logs_at_debug_writes_only_json_lines_and_never_the_token(
    tiny_hubert_dir, make_audio, tmp_path
):
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    async with FakeTelegram() as fake:
        env = voicemood_env()
        env.update(
            VOICEMOOD_MODEL=str(tiny_hubert_dir),
            VOICEMOOD_DATA_DIR=str(tmp_path / "data"),
            VOICEMOOD_TELEGRAM_TOKEN=fake.token,
            VOICEMOOD_TELEGRAM_API_BASE=f"{fake.base_url}/bot",
            VOICEMOOD_TELEGRAM_FILE_BASE=f"{fake.base_file_url}/file/bot",
            VOICEMOOD_WEB_ENABLED="false",
            VOICEMOOD_LOG_JSON="true",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "voicemood",
            "run",
            "--log-level",
            "DEBUG",
            env=env,
            cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        # Read stderr while waiting: DEBUG logs outgrow the pipe's 64 KiB long before the answer,
        # and a process whose stderr is full blocks in its next log call.
        assert process.stdout is not None and process.stderr is not None
        reading = asyncio.gather(process.stdout.read(), process.stderr.read())
        try:
            fake.send_voice(private_chat(ALICE), ALICE, ogg, 2.0)
            await fake.wait_for(
                lambda c: c.method == "sendMessage" and "tone" in str(c.params.get("text", "")),
                timeout=120,
            )
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(reading, timeout=60)
            await asyncio.wait_for(process.wait(), timeout=60)
    lines = stderr.decode().splitlines()
    assert process.returncode == 0, lines[-20:]
    bad = [line for line in lines if not _is_json_object(line)]
    assert not bad, bad[:5]
    records = [json.loads(line) for line in lines]
    assert all({"ts", "level", "logger", "msg"} <= record.keys() for record in records)
    assert any(r["level"] == "DEBUG" for r in records)
    assert any(r["msg"] == "Telegram bot started" for r in records)
    secret = fake.token.split(":", 1)[1]
    everything = stdout.decode() + stderr.decode()
    assert fake.token not in everything and secret not in everything
    assert REDACTED in everything, "the debug logs name the token's URL, so redaction did work"


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_the_redis_url_and_its_password_are_secrets():
    from voicemood.logs import secrets_of
    from voicemood.settings import Settings

    url = "redis://:s3cretRedisPw@127.0.0.1:6379/0"
    stream = io.StringIO()
    configure_logging(
        logging.DEBUG, False, secrets=secrets_of(Settings(redis_url=url)), stream=stream
    )
    try:
        logging.getLogger("voicemood.test").warning("cannot reach %s (password s3cretRedisPw)", url)
    finally:
        logging.getLogger().handlers.clear()
    assert "s3cretRedisPw" not in stream.getvalue() and REDACTED in stream.getvalue()
