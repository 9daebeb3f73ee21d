"""/practice through the real python-telegram-bot against the fake Bot API, in English and Korean.

Uses the fixtures of tests/test_telegram_bot.py (the real Application, service and SQLite file).
"""

# The fixtures are imported from the bot's own test module, so pytest sees them as arguments.
# ruff: noqa: F811
from __future__ import annotations

import sqlite3
from pathlib import Path

from bots.i18n import t
from tests.fakes.telegram import private_chat
from tests.test_telegram_bot import (  # noqa: F401  (fixtures)
    ALICE,
    DM,
    GROUP,
    MINJUN,
    _answer_to,
    _buttons,
    bot,
    fake,
    ogg,
    service,
)

MINJUN_DM = private_chat(MINJUN)
PRACTICE_BUTTONS = ["practice:next", "practice:stop"]


def _practice_rows(folder: Path) -> dict[str, int]:
    with sqlite3.connect(folder / "db.sqlite3") as db:
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("practice_sessions", "practice_session_tones", "practice_scores", "notes")
        }


async def test_practice_round_attempt_next_and_stop_in_a_private_chat(
    bot, fake, service, ogg, tmp_path
):
    start = await _answer_to(fake, fake.send_text(DM, ALICE, "/practice angry"))
    assert "Practice 1: say this so it sounds 😠 angry" in start.params["text"]
    assert [b["callback_data"] for b in _buttons(start)] == PRACTICE_BUTTONS

    attempt = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    text = attempt.params["text"]
    assert text.startswith(("I heard", "🤔 I'm not sure what I heard"))
    assert "Your angry score so far: " in text and " of 1." in text
    assert [b["callback_data"] for b in _buttons(attempt)] == PRACTICE_BUTTONS
    # Heard and counted, never kept: no note row, no audio file.
    assert _practice_rows(tmp_path) == {
        "practice_sessions": 1,
        "practice_session_tones": 1,
        "practice_scores": 1,
        "notes": 0,
    }
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*"))

    since = len(fake.sent)
    fake.press_button(DM, ALICE, attempt.result["message_id"], "practice:next")
    second = await fake.wait_for(
        lambda c: c.method == "sendMessage" and "Practice 2" in c.params["text"], since=since
    )
    assert [b["callback_data"] for b in _buttons(second)] == PRACTICE_BUTTONS
    assert "angry" not in second.params["text"].split("\n")[0]  # Next picks another tone
    # The attempt's answer stays, without its buttons.
    assert "reply_markup" not in fake.message(ALICE["id"], attempt.result["message_id"])

    summary = await _answer_to(fake, fake.send_text(DM, ALICE, "/practice stop"))
    assert summary.params["text"].startswith("🏁 Practice finished. Recordings heard: 1.")
    assert "😠 angry: " in summary.params["text"] and " of 1" in summary.params["text"]
    assert _practice_rows(tmp_path)["practice_sessions"] == 0
    assert _practice_rows(tmp_path)["practice_scores"] == 1  # the running score stays

    # With the session over, a voice note is an ordinary analysis again.
    usual = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    assert usual.params["text"].startswith(("😐", "😊", "😢", "😠", "🤔"))
    assert _practice_rows(tmp_path)["notes"] == 1


async def test_practice_in_korean_with_the_stop_button_and_forget_removes_every_practice_row(
    bot, fake, service, ogg, tmp_path
):
    start = await _answer_to(fake, fake.send_text(MINJUN_DM, MINJUN, "/practice sad"))
    assert "연습 1: 이 문장을 😢 슬픔 톤으로 말해 보세요" in start.params["text"]
    attempt = await _answer_to(fake, fake.send_voice(MINJUN_DM, MINJUN, ogg, duration=2))
    assert "지금까지 슬픔 점수: 1번 중 " in attempt.params["text"]
    assert [b["text"] for b in _buttons(attempt)] == ["🔁 다음 톤", "🏁 그만"]

    since = len(fake.sent)
    fake.press_button(MINJUN_DM, MINJUN, attempt.result["message_id"], "practice:stop")
    summary = await fake.wait_for(
        lambda c: c.method == "sendMessage" and "연습을 마쳤어요" in c.params["text"], since=since
    )
    assert "😢 슬픔: 1번 중 " in summary.params["text"]
    assert "녹음은 저장하지 않았고" in summary.params["text"]

    await _answer_to(fake, fake.send_text(MINJUN_DM, MINJUN, "/practice"))  # open again
    ask = await _answer_to(fake, fake.send_text(MINJUN_DM, MINJUN, "/forget"))
    since = len(fake.sent)
    fake.press_button(
        MINJUN_DM, MINJUN, ask.result["message_id"], _buttons(ask)[0]["callback_data"]
    )
    await fake.wait_for("editMessageText", since=since)
    assert await service.store.get_person("telegram", str(MINJUN["id"])) is None
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = {r[1] for r in db.execute(f'PRAGMA table_info("{table}")')}
            if "person_id" in columns:
                assert db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == 0, table


async def test_practice_in_a_group_answers_private_chats_only_and_voice_notes_stay_unheard(
    bot, fake, service, ogg, tmp_path
):
    answer = await _answer_to(fake, fake.send_text(GROUP, ALICE, "/practice"))
    assert answer.params["text"] == t("en", "private_only")
    assert _practice_rows(tmp_path)["practice_sessions"] == 0
