"""`voicemood run` as an operator starts it: one process, Telegram and the web page sharing one
worker, stopped by SIGTERM. Its logs must never contain the bot token."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys

import aiohttp

from tests.fakes.telegram import FakeTelegram, make_user, private_chat
from tests.model_factory import compact_folder
from tests.subprocess_env import voicemood_env

ALICE = make_user(4242, "Alice", username="alice")
OLD, NEW = "2026.11.29", "2026.11.30-retrained"


async def test_run_serves_telegram_and_the_web_page_and_stops_cleanly_on_sigterm(
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
            VOICEMOOD_WEB_PORT="0",
        )
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
            fake.send_voice(private_chat(ALICE), ALICE, ogg, 2.0)
            answer = await fake.wait_for(
                lambda c: c.method == "sendMessage" and "tone" in str(c.params.get("text", "")),
                timeout=60,
            )
            assert answer.params.get("reply_markup")
            async with aiohttp.ClientSession() as http, http.get(f"{url}healthz") as health:
                assert health.status == 200
                assert (await health.json())["model"].startswith("hf:")
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(process.communicate(), timeout=60)
        logs.extend(part.decode(errors="replace") for part in rest)
        assert process.returncode == 0, "".join(logs)[-3000:]
    everything = "".join(logs)
    assert "Telegram bot started" in everything
    secret = fake.token.split(":", 1)[1]
    assert secret not in everything, "the bot token leaked into the logs"


async def _web_url(process: asyncio.subprocess.Process, logs: list[str]) -> str:
    assert process.stderr is not None
    while True:
        line = (await process.stderr.readline()).decode(errors="replace")
        if not line:
            raise AssertionError("voicemood run ended early:\n" + "".join(logs))
        logs.append(line)
        if match := re.search(r"web page at (http://\S+)", line):
            return match[1]


async def test_run_takes_a_retrained_model_on_sighup_without_a_restart(tmp_path):
    live = compact_folder(tmp_path / "model", OLD, seed=1)
    env = voicemood_env()
    env.update(
        VOICEMOOD_MODEL=str(live),
        VOICEMOOD_MODEL_WATCH_S="0",  # only the signal may reload
        VOICEMOOD_DATA_DIR=str(tmp_path / "data"),
        VOICEMOOD_WEB_PORT="0",
    )
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
        async with aiohttp.ClientSession() as http:
            assert await _model(http, url) == f"compact:{OLD}"
            compact_folder(live, NEW, seed=2)
            process.send_signal(signal.SIGHUP)
            async with asyncio.timeout(60):
                while (model := await _model(http, url)) != f"compact:{NEW}":
                    assert model == f"compact:{OLD}"
                    await asyncio.sleep(0.1)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.communicate(), timeout=60)
    logs.extend(part.decode(errors="replace") for part in rest)
    everything = "".join(logs)
    assert process.returncode == 0, everything[-3000:]
    assert f"model reloaded: compact:{OLD} -> compact:{NEW}" in everything


async def _model(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(f"{url}healthz") as health:
        assert health.status == 200
        return str((await health.json())["model"])


def _run_env(tmp_path, **settings: str) -> dict[str, str]:
    env = voicemood_env()
    env.update(
        VOICEMOOD_MODEL=str(compact_folder(tmp_path / "model", OLD, seed=1)),
        VOICEMOOD_DATA_DIR=str(tmp_path / "data"),
        **settings,
    )
    return env


def _taken_port() -> socket.socket:
    """A socket listening on a free port of 127.0.0.1, so nothing else can bind it."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


async def test_run_without_tokens_logs_what_is_on_and_what_is_off_and_why(tmp_path):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicemood",
        "run",
        env=_run_env(tmp_path, VOICEMOOD_WEB_PORT="0"),
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    logs: list[str] = []
    try:
        url = await asyncio.wait_for(_web_url(process, logs), timeout=120)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.communicate(), timeout=60)
    logs.extend(part.decode(errors="replace") for part in rest)
    everything = "".join(logs)
    assert process.returncode == 0, everything[-3000:]
    assert url.startswith("http://127.0.0.1:")
    assert "Telegram bot off: VOICEMOOD_TELEGRAM_TOKEN is not set" in everything
    assert "Discord bot off: VOICEMOOD_DISCORD_TOKEN is not set" in everything


async def test_a_taken_web_port_with_no_bot_asked_for_is_one_sentence_and_exit_2(tmp_path):
    with _taken_port() as taken:
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "voicemood",
            "run",
            env=_run_env(tmp_path, VOICEMOOD_WEB_PORT=str(port)),
            cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), timeout=120)
    stderr = err.decode(errors="replace")
    assert process.returncode == 2, stderr[-3000:]
    assert "Traceback" not in stderr
    assert f"port {port} is already in use" in stderr
    assert "VOICEMOOD_WEB_PORT" in stderr and "VOICEMOOD_WEB_ENABLED=false" in stderr


async def test_a_taken_web_port_leaves_the_telegram_bot_answering(make_audio, tmp_path):
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    with _taken_port() as taken:
        port = taken.getsockname()[1]
        async with FakeTelegram() as fake:
            env = _run_env(
                tmp_path,
                VOICEMOOD_WEB_PORT=str(port),
                VOICEMOOD_TELEGRAM_TOKEN=fake.token,
                VOICEMOOD_TELEGRAM_API_BASE=f"{fake.base_url}/bot",
                VOICEMOOD_TELEGRAM_FILE_BASE=f"{fake.base_file_url}/file/bot",
            )
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
                await asyncio.wait_for(_log_line(process, logs, "VoiceMood is running"), 120)
                fake.send_voice(private_chat(ALICE), ALICE, ogg, 2.0)
                await fake.wait_for(
                    lambda c: c.method == "sendMessage" and "tone" in str(c.params.get("text")),
                    timeout=60,
                )
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                rest = await asyncio.wait_for(process.communicate(), timeout=60)
    logs.extend(part.decode(errors="replace") for part in rest)
    everything = "".join(logs)
    assert process.returncode == 0, everything[-3000:]
    assert "Traceback" not in everything
    assert f"port {port} is already in use" in everything
    assert "The bots keep running without it." in everything


async def _log_line(process: asyncio.subprocess.Process, logs: list[str], wanted: str) -> None:
    assert process.stderr is not None
    while True:
        line = (await process.stderr.readline()).decode(errors="replace")
        if not line:
            raise AssertionError("voicemood run ended early:\n" + "".join(logs))
        logs.append(line)
        if wanted in line:
            return


async def test_run_with_a_database_url_keeps_its_notes_in_postgresql_and_never_logs_the_url(
    tiny_hubert_dir, make_audio, tmp_path, postgres_server
):
    from urllib.parse import urlsplit, urlunsplit

    from storage.store import Store

    # A password in the URL (the test server trusts loopback, so any will do): it must not leak.
    parts = urlsplit(postgres_server.fresh_database(migrated=False))
    url = urlunsplit(
        parts._replace(netloc=f"voicemood:pw-s3cret-4242@{parts.hostname}:{parts.port}")
    )
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    async with FakeTelegram() as fake:
        env = voicemood_env()
        env.update(
            VOICEMOOD_MODEL=str(tiny_hubert_dir),
            VOICEMOOD_DATA_DIR=str(tmp_path / "data"),
            VOICEMOOD_DATABASE_URL=url,
            VOICEMOOD_TELEGRAM_TOKEN=fake.token,
            VOICEMOOD_TELEGRAM_API_BASE=f"{fake.base_url}/bot",
            VOICEMOOD_TELEGRAM_FILE_BASE=f"{fake.base_file_url}/file/bot",
            VOICEMOOD_WEB_PORT="0",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "voicemood", "run", "--log-level", "DEBUG",
            env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        logs: list[str] = []
        try:
            await asyncio.wait_for(_web_url(process, logs), timeout=120)
            fake.send_voice(private_chat(ALICE), ALICE, ogg, 2.0)
            answer = await fake.wait_for(
                lambda c: c.method == "sendMessage" and "tone" in str(c.params.get("text", "")),
                timeout=60,
            )
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(process.communicate(), timeout=60)
        logs.extend(part.decode(errors="replace") for part in rest)
        assert process.returncode == 0, "".join(logs)[-3000:]

    async with await Store.open(url, tmp_path / "data") as store:
        alice = await store.get_person("telegram", ALICE["id"])
        assert alice is not None
        (note,) = await store.person_notes(alice)
        assert note.answer_text == answer.params["text"]
    assert not list(tmp_path.rglob("*.sqlite3")), "a SQLite file was made beside PostgreSQL"
    everything = "".join(logs)
    assert "pw-s3cret-4242" not in everything, "the database password leaked into the logs"
