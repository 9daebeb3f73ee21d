"""The same speech-gate answers on every path: `voicemood classify` (text and JSON), Telegram (real
PTB against the fake Bot API), Discord (real discord.py against the fake), the web API, and the
analyser of `voicemood run` in front of remote workers. A tiny HuBERT answers what is heard.
"""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from bots.i18n import t
from inference.analysis import AnalysisConfig, Analyzer
from inference.errors import NoSpeech, TooLittleSpeech
from inference.models.hf import HFAudioClassifier
from inference.remote.protocol import Keys
from tests.audio_factory import NOT_SPEECH
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram, make_user, private_chat
from tests.remote_workers import remote
from tests.servers_redis import redis_prefix, redis_server  # noqa: F401  (fixtures)
from tests.service_factory import running_service
from tests.subprocess_env import voicemood_env
from tests.test_speech_gate import few_words
from tests.web_factory import running_web

TOO_LITTLE_EN = t("en", "error.too_little_speech")


@pytest.fixture
def short_speech(make_audio) -> Path:
    """A voice note with 0.4 s of speech in it, as Telegram and Discord send them."""
    return make_audio("few-words.ogg", samples=few_words(0.4))


@pytest.fixture
def sounds(make_audio) -> dict[str, Path]:
    """A chord, white noise and applause, each a real 4 s voice note."""
    return {
        kind: make_audio(f"{kind.replace(' ', '-')}.ogg", samples=NOT_SPEECH[kind](4.0, seed=3))
        for kind in ("chord", "white noise", "applause")
    }


def _classify(*args: str, model: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = voicemood_env()
    environment.update(VOICEMOOD_MODEL=str(model), **env)
    return subprocess.run(
        [sys.executable, "-m", "voicemood", "classify", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=300,
    )


# voicemood classify


def test_classify_json_gives_the_speech_codes_and_sentences_and_the_speech_heard(
    tiny_hubert_dir, sounds, short_speech, make_audio, tmp_path
):
    voice = make_audio("voice.ogg", 3.0, spoken=True)
    files = [*sounds.values(), short_speech, voice]
    result = _classify("--json", *map(str, files), model=tiny_hubert_dir, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    for record in records[:3]:
        assert (record["code"], record["error"]) == ("no_speech", t("en", "error.no_speech"))
        assert "label" not in record
    assert (records[3]["code"], records[3]["error"]) == ("too_little_speech", TOO_LITTLE_EN)
    assert "error" not in records[4] and 2.0 < records[4]["speech_s"] <= 3.0


def test_classify_text_words_them_in_the_chosen_language(
    tiny_hubert_dir, sounds, short_speech, tmp_path
):
    result = _classify(
        "--lang", "ko", str(sounds["chord"]), str(short_speech), model=tiny_hubert_dir, cwd=tmp_path
    )
    assert result.returncode == 1  # every file refused
    assert result.stdout.splitlines() == [
        f"{sounds['chord']}: {t('ko', 'error.no_speech')}",
        f"{short_speech}: {t('ko', 'error.too_little_speech')}",
    ]


def test_a_minimum_of_speech_out_of_bounds_is_one_sentence_and_exit_2(tmp_path):
    result = _classify("note.ogg", model=tmp_path, cwd=tmp_path, VOICEMOOD_MIN_SPEECH_S="-1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "VOICEMOOD_MIN_SPEECH_S=-1" in line and "greater than or equal to 0" in line


def test_the_minimum_of_speech_setting_reaches_the_analyser(tiny_hubert_dir, monkeypatch, tmp_path):
    from voicemood.settings import Settings
    from voicemood.wiring import build_analyzer

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOICEMOOD_MIN_SPEECH_S", "0.25")
    monkeypatch.setenv("VOICEMOOD_MODEL", str(tiny_hubert_dir))
    config = build_analyzer(Settings()).config
    assert config.min_speech_s == 0.25 and config.speech_gate


# Telegram, Discord and the web page


@pytest.fixture
async def service(tiny_hubert_dir, tmp_path):
    async with running_service(HFAudioClassifier.load(str(tiny_hubert_dir)), tmp_path) as built:
        yield built


async def test_telegram_answers_too_little_speech_and_no_speech_politely(
    service, short_speech, sounds
):
    from tests.test_telegram_bot import _answer_to, _start

    alice = make_user(2001, "Alice")
    async with FakeTelegram() as fake:
        bot = await _start(service, fake)
        try:
            few = fake.send_voice(private_chat(alice), alice, short_speech.read_bytes(), 3)
            answer = await _answer_to(fake, few)
            assert answer.params["text"] == TOO_LITTLE_EN
            assert "reply_markup" not in answer.params
            song = fake.send_voice(private_chat(alice), alice, sounds["chord"].read_bytes(), 4)
            assert (await _answer_to(fake, song)).params["text"] == t("en", "error.no_speech")
        finally:
            await bot.stop()


async def test_discord_answers_too_little_speech_and_no_speech_politely(
    service, short_speech, sounds
):
    from tests.test_discord_bot import World, _answer_to
    from tests.test_discord_bot import _start as _start_discord

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Mood Lab")
        channels = [fake.add_text_channel(guild, name) for name in ("general", "random")]
        admin, alice, bob = (fake.add_user(name) for name in ("admin", "alice", "bob"))
        fake.add_member(guild, alice)
        world = World(fake, guild, *channels, admin, alice, bob)
        bot = await _start_discord(world, service)
        try:
            dm = fake.dm_channel(alice)
            few = await fake.send_voice_message(dm, alice, short_speech.read_bytes(), 3.0)
            answer = await _answer_to(fake, few)
            assert answer["embeds"][0]["description"] == TOO_LITTLE_EN
            assert answer["components"] == []
            noise = await fake.send_voice_message(
                dm, alice, sounds["white noise"].read_bytes(), 4.0
            )
            answer = await _answer_to(fake, noise)
            assert answer["embeds"][0]["description"] == t("en", "error.no_speech")
        finally:
            await bot.stop()


@pytest.fixture
async def site(tiny_hubert_dir, tmp_path) -> AsyncIterator:
    async with running_web(tiny_hubert_dir, tmp_path) as running:
        yield running


async def _post(site, data: bytes, lang: str = "en") -> tuple[int, dict]:
    form = aiohttp.FormData({"lang": lang})
    form.add_field("audio", data, filename="note.ogg", content_type="application/octet-stream")
    async with (
        aiohttp.ClientSession() as client,
        client.post(site.web.url + "api/analyse", data=form) as response,
    ):
        return response.status, await response.json()


async def test_the_web_api_answers_the_codes_with_their_sentences(site, short_speech, sounds):
    assert await _post(site, short_speech.read_bytes()) == (
        422,
        {"error": TOO_LITTLE_EN, "code": "too_little_speech"},
    )
    assert await _post(site, sounds["applause"].read_bytes(), "ko") == (
        422,
        {"error": t("ko", "error.no_speech"), "code": "no_speech"},
    )
    assert site.counts() == dict.fromkeys(site.counts(), 0)


# Remote workers: the analyser of `voicemood run` refuses before a note reaches the stream.


async def test_notes_without_enough_speech_never_reach_the_remote_workers(
    redis_server, redis_prefix, short_speech, sounds
):
    from redis.asyncio import Redis

    async with remote(redis_server.url, redis_prefix) as client:
        analyzer = Analyzer(client, AnalysisConfig(cues=False))
        with pytest.raises(TooLittleSpeech):
            await analyzer.analyse(short_speech)
        with pytest.raises(NoSpeech):
            await analyzer.analyse(sounds["chord"])
    redis = Redis.from_url(redis_server.url)
    try:
        assert await redis.exists(Keys(redis_prefix).notes) == 0
    finally:
        await redis.aclose()


def test_the_short_note_really_holds_a_little_speech(short_speech):
    from inference.audio import decode
    from inference.speech import find_speech

    heard = find_speech(decode(short_speech).samples).seconds
    assert 0.2 < heard < 0.6, heard
    assert np.isfinite(heard)
