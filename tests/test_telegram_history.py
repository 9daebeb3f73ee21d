"""/history, /export and /words through the real python-telegram-bot against the fake Bot API.

Uses the fixtures of tests/test_telegram_bot.py (the real Application, service and SQLite file).
"""

# The fixtures are imported from the bot's own test module, so pytest sees them as arguments.
# ruff: noqa: F811
from __future__ import annotations

import csv
import io
import json
import sqlite3

from bots.i18n import label_name, t
from tests.fakes.telegram import make_user, private_chat
from tests.test_telegram_bot import (  # noqa: F401  (fixtures)
    ALICE,
    DM,
    GROUP,
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
BORA = make_user(1003, "Bora", username="bora")


async def test_history_sends_a_chart_of_only_my_own_notes_in_english_and_korean(
    bot, fake, service, ogg
):
    for user in (ALICE, MINJUN, BORA):
        await _answer_to(fake, fake.send_text(GROUP, user, "/optin"))
    await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    await _answer_to(fake, fake.send_voice(GROUP, ALICE, ogg, duration=2))
    for _ in range(3):  # Bora's notes in the same group are never in Alice's chart
        await _answer_to(fake, fake.send_voice(GROUP, BORA, ogg, duration=2))
    await _answer_to(fake, fake.send_voice(MINJUN_DM, MINJUN, ogg, duration=2))

    mine = await _answer_to(fake, fake.send_text(DM, ALICE, "/history"))
    month = await _answer_to(fake, fake.send_text(DM, ALICE, "/history month"))
    korean = await _answer_to(fake, fake.send_text(MINJUN_DM, MINJUN, "/history week"))

    period = t("en", "history.period.week")
    assert mine.method == "sendPhoto" and mine.params["chat_id"] == ALICE["id"]
    assert mine.params["caption"].startswith(t("en", "history.title", period=period))
    assert "2 voice notes" in mine.params["caption"]
    assert "this month: 2 voice notes" in month.params["caption"]
    assert korean.params["caption"].startswith(
        t("ko", "history.title", period=t("ko", "history.period.week"))
    )
    assert "음성 메시지 1개" in korean.params["caption"]
    for answer in (mine, month, korean):
        (png,) = answer.files.values()
        assert png.startswith(b"\x89PNG")


async def test_history_export_and_words_in_a_group_answer_politely_and_send_nothing_there(
    bot, fake, service, ogg
):
    await _answer_to(fake, fake.send_text(GROUP, ALICE, "/optin"))
    await _answer_to(fake, fake.send_voice(GROUP, ALICE, ogg, duration=2))

    for command in ("/history", "/export", "/words angry tense", "/words"):
        answer = await _answer_to(fake, fake.send_text(GROUP, ALICE, command))
        assert answer.method == "sendMessage", command
        assert answer.params["text"] == t("en", "private_only"), command

    assert fake.calls("sendPhoto") == [] and fake.calls("sendDocument") == []
    person = await service.store.get_person("telegram", str(ALICE["id"]))
    assert await service.store.label_words(person) == {}


async def test_export_sends_a_csv_and_a_json_of_everything_kept_about_me(bot, fake, service, ogg):
    await _answer_to(fake, fake.send_text(GROUP, MINJUN, "/optin"))
    await _answer_to(fake, fake.send_voice(GROUP, MINJUN, ogg, duration=2))
    answer = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    note_id = _note_id(answer)
    label = (await service.store.get_note(note_id)).label
    fake.press_button(DM, ALICE, answer.result["message_id"], f"ok:{note_id}")
    await fake.wait_for("editMessageText")
    await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline on"))
    await _answer_to(fake, fake.send_text(DM, ALICE, "/donate on"))
    await _answer_to(fake, fake.send_text(DM, ALICE, "/words angry tense"))
    await _answer_to(fake, fake.send_text(DM, ALICE, "/transcript on"))
    await _answer_to(fake, fake.send_text(DM, ALICE, "/face on"))

    since = len(fake.sent)
    told = await _answer_to(fake, fake.send_text(DM, ALICE, "/export"))
    await fake.wait_for(lambda c: len(fake.calls("sendDocument")) >= 2, since=since)

    assert told.params["text"] == t("en", "export.done")
    files = {
        c.result["document"]["file_name"]: c.files["document"] for c in fake.calls("sendDocument")
    }
    assert set(files) == {"voicemood-export.csv", "voicemood-export.json"}
    assert {c.params["chat_id"] for c in fake.calls("sendDocument")} == {ALICE["id"]}
    document = json.loads(files["voicemood-export.json"])
    assert set(document["about"]) == {
        "person",
        "chats",
        "notes",
        "votes",
        "consents",
        "baseline",
        "cue_statistics",
        "words",
        "transcript",
        "practice",
        "face",
        "corrections",
        "music",
        "language_statistics",
    }
    assert document["transcript"]["on_since"] is not None
    assert document["face"]["on_since"] is not None
    assert document["corrections"] == []  # this model gives no embeddings to keep
    assert document["person"]["user_id"] == str(ALICE["id"])
    assert [n["id"] for n in document["notes"]] == [note_id]  # Minjun's note is not in it
    assert [(v["note_id"], v["label"]) for v in document["votes"]] == [(note_id, label)]
    assert [c["kind"] for c in document["consents"]] == ["donate_audio"]
    assert document["baseline"]["on_since"] is not None
    assert document["words"] == {"angry": "tense"}
    rows = list(csv.DictReader(io.StringIO(files["voicemood-export.csv"].decode("utf-8-sig"))))
    assert {r["part"] for r in rows} >= {
        "person",
        "chat",
        "note",
        "vote",
        "consent",
        "word",
        "transcript",
        "face",
    }
    assert [r["id"] for r in rows if r["part"] == "note"] == [str(note_id)]


async def test_words_rename_a_tone_in_my_answers_list_reset_and_go_with_forget(
    bot, fake, service, ogg, tmp_path
):
    first = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    label = (await service.store.get_note(_note_id(first))).label

    set_ = await _answer_to(fake, fake.send_text(DM, ALICE, f"/words {label} wobbly"))
    second = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    listed = await _answer_to(fake, fake.send_text(DM, ALICE, "/words"))

    assert set_.params["text"] == t("en", "words.set", word="wobbly", label=label_name("en", label))
    assert "wobbly" in second.params["text"]
    assert second.params["text"] == first.params["text"].replace(label_name("en", label), "wobbly")
    # Underneath, the note keeps the canonical label.
    assert (await service.store.get_note(_note_id(second))).label == label
    assert "wobbly" in listed.params["text"]
    reset = await _answer_to(fake, fake.send_text(DM, ALICE, "/words reset"))
    assert reset.params["text"] == t("en", "words.reset", count=1)

    korean = await _answer_to(fake, fake.send_text(MINJUN_DM, MINJUN, "/words 화남 긴장"))
    assert korean.params["text"] == t("ko", "words.set", word="긴장", label="화남")
    unknown = await _answer_to(fake, fake.send_text(MINJUN_DM, MINJUN, "/words grumpy x"))
    assert unknown.params["text"].startswith("“grumpy”")

    await _answer_to(fake, fake.send_text(DM, ALICE, f"/words {label} wobbly"))
    ask = await _answer_to(fake, fake.send_text(DM, ALICE, "/forget"))
    fake.press_button(DM, ALICE, ask.result["message_id"], _buttons(ask)[0]["callback_data"])
    await fake.wait_for("editMessageText")
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        # Only Minjun's word is left.
        assert db.execute("SELECT word FROM label_words").fetchall() == [("긴장",)]
