"""The 🎵 Music button and /music through the real python-telegram-bot against the fake Bot API.

Uses the fixtures of tests/test_telegram_bot.py (the real Application, service and SQLite file).
"""

# The fixtures are imported from the bot's own test module, so pytest sees them as arguments.
# ruff: noqa: F811
from __future__ import annotations

import sqlite3
from pathlib import Path

from bots.i18n import t
from inference.music import load_catalogue
from tests.fakes.telegram import private_chat
from tests.test_telegram_bot import (  # noqa: F401  (fixtures)
    ALICE,
    DM,
    MINJUN,
    _answer_to,
    _buttons,
    _note_id,
    bot,
    fake,
    ogg,
    service,
)

MINJUN_DM = private_chat(MINJUN)
LINKS = {song.link for song in load_catalogue()}


def _music_rows(folder: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(folder / "db.sqlite3") as db:
        return db.execute("SELECT mode, last_songs FROM music_choices").fetchall()


async def _songs_after_tap(fake, chat, user, answer, lang: str = "en") -> str:
    """Tap 🎵 under `answer`; the text of the message with the songs."""
    note_id = _note_id(answer)
    (music,) = _buttons(answer, row=1)
    assert music["callback_data"] == f"music:{note_id}"
    since = len(fake.sent)
    fake.press_button(chat, user, answer.result["message_id"], music["callback_data"])
    ack = await fake.wait_for("answerCallbackQuery", since=since)
    songs = await fake.wait_for(
        lambda c: c.method == "sendMessage" and c.params["text"].startswith("🎵"), since=since
    )
    assert ack.params["text"] == t(lang, "music.notice")
    return songs.params["text"]


def _links(text: str) -> list[str]:
    return [word for word in text.split() if word.startswith("https://")]


async def test_music_button_sends_three_catalogue_songs_in_english_then_lift_differs(
    bot, fake, service, ogg, tmp_path
):
    answer = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    assert _buttons(answer, row=1)[0]["text"] == "🎵 Music"

    first = await _songs_after_tap(fake, DM, ALICE, answer)
    assert first.startswith("🎵 Three songs near how this note sounds (")
    assert len(_links(first)) == 3 and set(_links(first)) <= LINKS
    assert [mode for mode, _ in _music_rows(tmp_path)] == ["match"]

    lift = await _answer_to(fake, fake.send_text(DM, ALICE, "/music lift"))
    assert lift.params["text"] == t("en", "music.set.lift")
    second = await _songs_after_tap(fake, DM, ALICE, answer)
    assert second.startswith("🎵 Three songs a step from how this note sounds (")
    assert "toward calm and pleasant" in second
    assert not set(_links(first)) & set(_links(second))
    ((mode, kept),) = _music_rows(tmp_path)
    assert mode == "lift" and len(kept.split(",")) == 3

    # The vote buttons still work beside it, and an edited answer keeps the 🎵 row.
    since = len(fake.sent)
    fake.press_button(DM, ALICE, answer.result["message_id"], f"ok:{_note_id(answer)}")
    edit = await fake.wait_for("editMessageText", since=since)
    assert _buttons(edit, row=1)[0]["callback_data"] == f"music:{_note_id(answer)}"


async def test_music_in_korean_and_forget_removes_the_choice(bot, fake, service, ogg, tmp_path):
    answer = await _answer_to(fake, fake.send_voice(MINJUN_DM, MINJUN, ogg, duration=2))
    assert _buttons(answer, row=1)[0]["text"] == "🎵 음악"

    songs = await _songs_after_tap(fake, MINJUN_DM, MINJUN, answer, "ko")
    assert songs.startswith("🎵 이 메시지의 목소리 톤(")
    assert "청취자들이 평가한 곡의 분위기로 골랐고" in songs
    assert len(_links(songs)) == 3 and set(_links(songs)) <= LINKS

    command = await _answer_to(fake, fake.send_text(MINJUN_DM, MINJUN, "/music"))
    assert command.params["text"].startswith("🎵 이 메시지의 목소리 톤(")
    assert not set(_links(command.params["text"])) & set(_links(songs))
    assert len(_music_rows(tmp_path)) == 1

    ask = await _answer_to(fake, fake.send_text(MINJUN_DM, MINJUN, "/forget"))
    since = len(fake.sent)
    fake.press_button(
        MINJUN_DM, MINJUN, ask.result["message_id"], _buttons(ask)[0]["callback_data"]
    )
    await fake.wait_for("editMessageText", since=since)
    assert _music_rows(tmp_path) == []
