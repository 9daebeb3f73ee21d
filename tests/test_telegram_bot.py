"""The Telegram adapter with real parts: the real PTB Application polling the fake Bot API on
loopback, the real service over a SQLite file, a tiny HuBERT, and audio encoded by ffmpeg."""

from __future__ import annotations

import asyncio
import io
import socket
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from logging import ERROR
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bots.core.service import VoiceMoodService
from bots.core.values import Button, Reply
from bots.i18n import label_name, percent, t
from bots.telegram.app import TelegramHandle, command_description, start_telegram
from bots.telegram.handlers import _ACTION_EVERY_S, ALLOWED_UPDATES
from bots.telegram.send import send_reply
from inference.models.hf import HFAudioClassifier
from tests.fakes.telegram import Call, FakeTelegram, group_chat, make_user, private_chat
from tests.service_factory import running_service
from tests.stats_model import StatsModel

ALICE = make_user(1001, "Alice", username="alice")
MINJUN = make_user(1002, "민준", username="minjun", language_code="ko")
DM = private_chat(ALICE)
GROUP = group_chat(-1001234567890, "Mood club")
OLD_GROUP = group_chat(-4001, "Book club", supergroup=False)
SUPERGROUP = group_chat(-1004001, "Book club")
JSON = dict[str, Any]
WAIT_S = 5.0


@pytest.fixture
async def service(tiny_hubert_dir, tmp_path) -> AsyncIterator[VoiceMoodService]:
    async with running_service(HFAudioClassifier.load(str(tiny_hubert_dir)), tmp_path) as built:
        yield built


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(service, fake, caplog) -> AsyncIterator[TelegramHandle]:
    """The bot as `voicemood run` starts it, polling the fake; fails the test if a handler raised."""
    handle = await _start(service, fake)
    yield handle
    await handle.stop()
    errors = [r for r in caplog.records if r.name == "bots.telegram_bot" and r.levelno >= ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture
def ogg(make_audio) -> bytes:
    return make_audio("note.ogg", 2.0).read_bytes()


async def _start(service: VoiceMoodService, fake: FakeTelegram, **options: Any) -> TelegramHandle:
    return await start_telegram(
        service,
        fake.token,
        api_base=f"{fake.base_url}/bot",
        file_base=f"{fake.base_file_url}/file/bot",
        poll_timeout_s=1,
        digest_check_s=0.2,
        **options,
    )


# Voice notes and other recordings


async def test_private_voice_note_is_answered_with_tone_and_confidence_under_feedback_buttons(
    bot, fake, service, ogg
):
    sent = fake.send_voice(DM, ALICE, ogg, duration=2)

    answer = await _answer_to(fake, sent)

    note = await service.store.get_note(_note_id(answer))
    text = answer.params["text"]
    assert label_name("en", note.label) in text and percent(note.confidence) in text
    assert "tone" in text
    assert [b["callback_data"] for b in _buttons(answer)] == [f"ok:{note.id}", f"pick:{note.id}"]
    assert note.platform_message_id == str(sent["message"]["message_id"])
    reply_id = str(answer.result["message_id"])  # linked after sending, so reactions find it
    await _eventually(lambda: _reply_id(service, note.id), reply_id)
    actions = [c for c in fake.calls("sendChatAction") if c.params["chat_id"] == ALICE["id"]]
    # "typing…" from before the answer; on a slow machine it is renewed every few seconds.
    assert actions and all(a.params["action"] == "typing" for a in actions)
    assert actions[0].time <= answer.time
    assert len(actions) <= 1 + int((answer.time - actions[0].time) / _ACTION_EVERY_S)
    assert fake.downloads == [fake.calls("getFile")[0].result["file_path"]]


async def test_audio_file_video_note_and_audio_documents_are_answered_other_files_ignored(
    bot, fake, service, make_audio
):
    mp3 = make_audio("song.mp3", 2.0).read_bytes()
    mp4 = make_audio("round.mp4", 2.0).read_bytes()
    wav = make_audio("memo.wav", 2.0).read_bytes()
    m4a = make_audio("memo.m4a", 2.0).read_bytes()
    pdf = fake.send_document(
        DM, ALICE, b"%PDF-1.4 not audio", file_name="a.pdf", mime="application/pdf"
    )
    recordings = [
        fake.send_audio(DM, ALICE, mp3, duration=2),
        fake.send_video_note(DM, ALICE, mp4, duration=2),
        fake.send_document(DM, ALICE, wav, file_name="memo.wav", mime="audio/x-wav"),
        # Sent as a plain file: recognised by its extension.
        fake.send_document(DM, ALICE, m4a, file_name="Memo.M4A", mime="application/octet-stream"),
    ]

    answers = [await _answer_to(fake, sent) for sent in recordings]

    for answer in answers:
        assert "tone" in answer.params["text"] and _note_id(answer) > 0
    chat = await service.store.ensure_chat("telegram", str(ALICE["id"]), "private")
    assert len(await service.store.chat_notes(chat)) == 4
    assert not _replies_to(fake, pdf)
    assert len(fake.downloads) == 4


async def test_group_voice_note_is_analysed_only_for_members_who_opted_in(bot, fake, service, ogg):
    opt_in = await _answer_to(fake, fake.send_text(GROUP, MINJUN, "/optin"))
    assert "민준" in opt_in.params["text"]

    ignored = fake.send_voice(GROUP, ALICE, ogg, duration=2)
    answered = fake.send_voice(GROUP, MINJUN, ogg, duration=2)

    answer = await _answer_to(fake, answered)
    assert "목소리 톤" in answer.params["text"] or "확실하지" in answer.params["text"]
    assert not _replies_to(fake, ignored)
    chat = await service.store.ensure_chat("telegram", str(GROUP["id"]), "group")
    notes = await service.store.chat_notes(chat)
    assert [n.person.platform_user_id for n in notes] == [str(MINJUN["id"])]
    assert len(fake.downloads) == 1  # the ignored note was never fetched
    # Nor did the bot look busy over it: one "typing…" for Minjun's note (renewed only as often
    # as its interval allows, on a slow machine), none for Alice's.
    actions = fake.calls("sendChatAction")
    assert 1 <= len(actions) <= 1 + int((answer.time - actions[0].time) / _ACTION_EVERY_S)


async def test_corrupt_voice_note_gets_a_polite_error_and_the_bot_keeps_serving(
    bot, fake, service, ogg
):
    corrupt = fake.send_voice(DM, ALICE, b"OggS" + b"\x00garbage" * 40, duration=2)

    error = await _answer_to(fake, corrupt)
    good = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))

    assert "couldn't read" in error.params["text"]
    assert "reply_markup" not in error.params
    assert _note_id(good) > 0


async def test_file_over_telegrams_download_limit_is_refused_politely_without_downloading(
    bot, fake
):
    # Above the Bot API's 20 MB but below the service's 20 MiB: the adapter's limit applies.
    big = fake.send_document(
        DM, ALICE, b"\x00" * 20_500_000, file_name="long.wav", mime="audio/wav"
    )

    answer = await _answer_to(fake, big)

    assert "too large" in answer.params["text"] and "20 MB" in answer.params["text"]
    assert fake.calls("getFile") == [] and fake.downloads == []


# Feedback: buttons and reactions


async def test_buttons_record_votes_answer_the_tap_and_edit_the_answer(bot, fake, service, ogg):
    answer = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    note = await service.store.get_note(_note_id(answer))
    message_id = answer.result["message_id"]

    fake.press_button(DM, ALICE, message_id, f"ok:{note.id}")
    ack = await fake.wait_for("answerCallbackQuery")
    await fake.wait_for("editMessageText")

    assert "vote is recorded" in ack.params["text"]
    assert [v.label for v in await service.store.votes(note.id)] == [note.label]
    shown = fake.message(ALICE["id"], message_id)
    assert shown is not None and "🗳" in shown["text"] and "×1" in shown["text"]

    since = len(fake.sent)
    fake.press_button(DM, ALICE, message_id, f"pick:{note.id}")
    picker = await fake.wait_for("editMessageText", since=since)
    assert f"lab:{note.id}:sad" in [b["callback_data"] for b in _buttons(picker, row=None)]
    since = len(fake.sent)
    fake.press_button(DM, ALICE, message_id, f"lab:{note.id}:sad")
    await fake.wait_for("editMessageText", since=since)

    assert [v.label for v in await service.store.votes(note.id)] == ["sad"]
    assert len(fake.calls("answerCallbackQuery")) == 3  # every tap answered


async def test_reaction_on_the_answer_counts_as_a_vote(bot, fake, service, ogg):
    answer = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    note_id = _note_id(answer)

    # The bot links its answer to the note just after sending it; a person can't react sooner.
    await _eventually(lambda: _linked(service, DM["id"], answer.result["message_id"]), True)
    fake.react(DM, ALICE, answer.result["message_id"], "😢")

    assert fake.allowed_updates is not None and "message_reaction" in fake.allowed_updates
    await _eventually(lambda: _vote_labels(service, note_id), ["sad"])


async def test_taking_a_reaction_away_withdraws_its_vote_and_leaves_a_later_one(
    bot, fake, service, ogg
):
    answer = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    note_id, message_id = _note_id(answer), answer.result["message_id"]
    await _eventually(lambda: _linked(service, DM["id"], message_id), True)

    fake.react(DM, ALICE, message_id, "😢")
    await _eventually(lambda: _vote_labels(service, note_id), ["sad"])
    fake.react(DM, ALICE, message_id, None)
    await _eventually(lambda: _vote_labels(service, note_id), [])

    fake.react(DM, ALICE, message_id, "😢")
    await _eventually(lambda: _vote_labels(service, note_id), ["sad"])
    fake.react(DM, ALICE, message_id, ["😢", "😡"])  # a second reaction: the later vote
    await _eventually(lambda: _vote_labels(service, note_id), ["angry"])
    withdrawals = _results_of(service, "on_reaction_removed")
    fake.react(DM, ALICE, message_id, "😡")  # 😢 taken away, 😡 kept

    async with asyncio.timeout(WAIT_S):
        assert await withdrawals.get() is False
    assert await _vote_labels(service, note_id) == ["angry"]


# Commands


async def test_every_command_is_answered_in_a_private_chat(bot, fake, service):
    expected = [
        ("/start", t("en", "help")),
        ("/help", t("en", "help")),
        ("/privacy", t("en", "privacy")),
        ("/optin", t("en", "optin.private")),
        ("/optout", t("en", "optin.private")),
        ("/donate on", t("en", "donate.on")),
        ("/donate off", t("en", "donate.off", count=0)),
        ("/baseline", t("en", "baseline.status_off")),
        ("/lang ko", t("ko", "lang.done")),
        ("/lang en", t("en", "lang.done")),
        ("/summary week", t("en", "summary.empty", period=t("en", "summary.period.week"))),
        ("/digest on 09:30", t("en", "digest.on", time="09:30")),
        ("/digest off", t("en", "digest.off")),
        ("/analysis off", t("en", "groups_only")),
        ("/dance", t("en", "unknown_command")),
    ]
    for command, text in expected:
        answer = await _answer_to(fake, fake.send_text(DM, ALICE, command))
        assert answer.params["text"] == text, command

    ask = await _answer_to(fake, fake.send_text(DM, ALICE, "/forget"))
    assert ask.params["text"] == t("en", "forget.confirm")
    yes = _buttons(ask)[0]["callback_data"]
    fake.press_button(DM, ALICE, ask.result["message_id"], yes)
    await fake.wait_for("editMessageText")
    assert "deleted everything" in fake.message(ALICE["id"], ask.result["message_id"])["text"]
    assert await service.store.get_person("telegram", str(ALICE["id"])) is None


async def test_baseline_learns_from_two_notes_and_off_and_forget_delete_it(
    fake, tmp_path, ogg, caplog
):
    model = StatsModel()
    async with running_service(model, tmp_path) as service:
        handle = await _start(service, fake)
        try:
            on = await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline on"))
            for _ in range(2):
                await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
            status = await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline"))

            assert on.params["text"] == t("en", "baseline.on")
            assert status.params["text"] == t("en", "baseline.status_on", count=2)
            assert model.baseline_counts == [None, 1]  # the second note met the first's
            assert _baseline_rows(tmp_path) == (1, 1)
            await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline off"))
            assert _baseline_rows(tmp_path) == (0, 0)

            await _answer_to(fake, fake.send_text(DM, ALICE, "/baseline on"))
            await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
            assert _baseline_rows(tmp_path) == (1, 1)
            ask = await _answer_to(fake, fake.send_text(DM, ALICE, "/forget"))
            fake.press_button(
                DM, ALICE, ask.result["message_id"], _buttons(ask)[0]["callback_data"]
            )
            await fake.wait_for("editMessageText")
            assert _baseline_rows(tmp_path) == (0, 0)
        finally:
            await handle.stop()
    assert not [r for r in caplog.records if r.name == "bots.telegram_bot" and r.levelno >= ERROR]


def _baseline_rows(folder: Path) -> tuple[int, int]:
    """(statistics rows, baseline consent rows), read from the database file itself."""
    with sqlite3.connect(folder / "db.sqlite3") as db:
        stats = db.execute("SELECT count(*) FROM baselines").fetchone()[0]
        consents = db.execute("SELECT count(*) FROM baseline_consents").fetchone()[0]
    return stats, consents


async def test_summary_sends_the_chart_as_a_photo_with_the_text_as_caption(bot, fake, ogg):
    await _answer_to(fake, fake.send_text(GROUP, ALICE, "/optin"))
    for _ in range(2):
        await _answer_to(fake, fake.send_voice(GROUP, ALICE, ogg, duration=2))

    asked = fake.send_text(GROUP, ALICE, "/summary today")
    photo = await fake.wait_for("sendPhoto")

    assert "2 voice notes" in photo.params["caption"] and "Alice" in photo.params["caption"]
    assert photo.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    (upload,) = photo.files.values()
    assert upload.startswith(b"\x89PNG")


async def test_analysis_switch_is_refused_for_a_member_and_accepted_for_an_admin(
    bot, fake, service
):
    fake.add_member(GROUP, ALICE, "member")
    fake.add_member(GROUP, MINJUN, "administrator")

    refused = await _answer_to(fake, fake.send_text(GROUP, ALICE, "/analysis off"))
    accepted = await _answer_to(fake, fake.send_text(GROUP, MINJUN, "/analysis off"))

    assert refused.params["text"] == t("en", "admins_only")
    assert accepted.params["text"] == t("ko", "analysis.off")
    chat = await service.store.ensure_chat("telegram", str(GROUP["id"]), "group")
    assert (await service.store.chat_settings(chat)).analysis is False
    assert {c.params["user_id"] for c in fake.calls("getChatMember")} == {1001, 1002}


async def test_command_menu_is_registered_in_english_and_korean(bot, fake):
    menus = {
        c.params.get("language_code"): c.params["commands"] for c in fake.calls("setMyCommands")
    }

    assert set(menus) == {None, "ko"}
    english = {c["command"]: c["description"] for c in menus[None]}
    korean = {c["command"]: c["description"] for c in menus["ko"]}
    assert english["optin"] == "analyse my voice notes in this group"
    assert english["summary"].startswith("today|week|N")
    assert korean["forget"] == command_description("ko", "forget") == "나에 대한 모든 기록 삭제"
    assert set(english) == set(korean) and "help" in english and "start" not in english


# Groups and digests


async def test_bot_added_to_a_group_posts_the_intro_and_its_button_opts_in(bot, fake, service):
    fake.add_bot_to_chat(GROUP, ALICE)

    intro = await fake.wait_for("sendMessage")
    assert intro.params["chat_id"] == GROUP["id"]
    assert intro.params["text"] == t("en", "group.intro")
    (button,) = _buttons(intro)
    fake.press_button(GROUP, ALICE, intro.result["message_id"], button["callback_data"])
    ack = await fake.wait_for("answerCallbackQuery")

    assert "Alice" in ack.params["text"]
    person = await service.store.get_person("telegram", str(ALICE["id"]))
    chat = await service.store.ensure_chat("telegram", str(GROUP["id"]), "group")
    assert person is not None and await service.store.may_analyse(person, chat)


async def test_group_upgraded_to_a_supergroup_keeps_its_opt_ins_under_the_new_id(
    bot, fake, service, ogg
):
    await _answer_to(fake, fake.send_text(OLD_GROUP, ALICE, "/optin"))
    old_chat = await service.store.find_chat("telegram", str(OLD_GROUP["id"]))

    fake.upgrade_group(OLD_GROUP, SUPERGROUP, by=ALICE)
    await _eventually(lambda: _moved(service, OLD_GROUP, SUPERGROUP), True)
    ignored = fake.send_voice(SUPERGROUP, MINJUN, ogg, duration=2)  # never opted in
    answer = await _answer_to(fake, fake.send_voice(SUPERGROUP, ALICE, ogg, duration=2))

    note = await service.store.get_note(_note_id(answer))
    chat = await service.store.find_chat("telegram", str(SUPERGROUP["id"]))
    assert chat is not None and old_chat is not None and chat.id == old_chat.id
    assert note.chat_id == chat.id and note.person.platform_user_id == str(ALICE["id"])
    assert not _replies_to(fake, ignored)
    assert len(fake.downloads) == 1


async def test_daily_digest_is_posted_once_when_its_time_comes(bot, fake, ogg):
    await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    now = datetime.now(UTC).strftime("%H:%M")

    await _answer_to(fake, fake.send_text(DM, ALICE, f"/digest on {now}"))
    digest = await fake.wait_for("sendPhoto")

    assert digest.params["chat_id"] == ALICE["id"] and "1 voice note\n" in digest.params["caption"]
    await _answer_to(fake, fake.send_text(DM, ALICE, "/help"))  # a few more digest checks pass
    assert len(fake.calls("sendPhoto")) == 1


async def test_a_digest_whose_minute_was_missed_is_still_posted_once(bot, fake, ogg):
    await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
    # As if the bot was busy or restarting when the digest's minute came, three minutes ago.
    missed = (datetime.now(UTC) - timedelta(minutes=3)).strftime("%H:%M")

    await _answer_to(fake, fake.send_text(DM, ALICE, f"/digest on {missed}"))
    digest = await fake.wait_for("sendPhoto")

    assert digest.params["chat_id"] == ALICE["id"]
    await asyncio.sleep(0.5)  # more digest checks (every 0.2 s) pass
    await _answer_to(fake, fake.send_text(DM, ALICE, "/help"))
    assert len(fake.calls("sendPhoto")) == 1


async def test_a_restarted_bot_does_not_post_the_days_digest_again(
    tiny_hubert_dir, tmp_path, fake, ogg
):
    model = HFAudioClassifier.load(str(tiny_hubert_dir))
    async with running_service(model, tmp_path) as before:
        handle = await _start(before, fake)
        try:
            await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))
            now = datetime.now(UTC).strftime("%H:%M")
            await _answer_to(fake, fake.send_text(DM, ALICE, f"/digest on {now}"))
            await fake.wait_for("sendPhoto")
        finally:
            await handle.stop()
    # A new process over the same SQLite file, still inside the day's catch-up window.
    async with running_service(model, tmp_path) as after:
        handle = await _start(after, fake)
        try:
            # The first digest check runs 1 s after start, then one every 0.2 s: a few pass.
            await asyncio.sleep(1.6)
            await _answer_to(fake, fake.send_text(DM, ALICE, "/help"))
        finally:
            await handle.stop()

    assert len(fake.calls("sendPhoto")) == 1


# Delivery: flood control, network failures, Telegram's size limits


async def test_flood_wait_is_honoured_and_the_answer_still_arrives(bot, fake, ogg):
    fake.fail_next("sendMessage", retry_after=1)

    answer = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))

    refused, accepted = fake.calls("sendMessage", failed=True)
    assert (refused.error_code, accepted.error_code) == (429, None)
    assert accepted.time - refused.time >= 1.0  # it waited as long as Telegram asked
    assert accepted is answer and _note_id(answer) > 0


async def test_network_errors_on_sending_are_retried_and_the_answer_arrives(bot, fake, ogg):
    fake.fail_next_network("sendMessage")
    fake.fail_next_network("sendMessage", close=True)

    answer = await _answer_to(fake, fake.send_voice(DM, ALICE, ogg, duration=2))

    assert [c.error_code for c in fake.calls("sendMessage", failed=True)] == [502, 0, None]
    assert _note_id(answer) > 0


async def test_long_caption_is_sent_as_a_message_after_the_photo(bot, fake):
    fake.send_text(DM, ALICE, "hi")  # the bot may only write to people who wrote first
    caption = "Mood of this chat. " * 80  # 1520 characters, over the 1024 caption limit
    reply = Reply(caption, ((Button("OK", "ok:1"),),), photo=_png())

    last = await send_reply(bot.application.bot, ALICE["id"], reply)

    (photo,) = fake.calls("sendPhoto")
    (text,) = fake.calls("sendMessage")
    assert "caption" not in photo.params and text.params["text"] == caption
    assert last.message_id == text.result["message_id"] and _buttons(text)[0]["text"] == "OK"


async def test_text_over_telegrams_limit_is_split_with_buttons_under_the_last_part(bot, fake):
    fake.send_text(DM, ALICE, "hi")
    line = "Most often per person: " + "민준 😊 happy, " * 20 + "\n"
    reply = Reply(line * 30, ((Button("OK", "ok:1"),),))

    await send_reply(bot.application.bot, ALICE["id"], reply)

    parts = fake.calls("sendMessage")
    assert len(parts) > 1 and "".join(p.params["text"] for p in parts) == reply.text
    assert ["reply_markup" in p.params for p in parts] == [False] * (len(parts) - 1) + [True]


# Webhook mode


async def test_webhook_mode_answers_updates_posted_with_the_secret_and_refuses_others(
    service, fake
):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    handle = await _start(
        service, fake, webhook_url=url, webhook_listen="127.0.0.1", webhook_port=port
    )
    try:
        assert fake.webhook is not None and fake.webhook["url"] == url
        secret = fake.webhook["secret_token"]
        assert fake.webhook["allowed_updates"] == list(ALLOWED_UPDATES)
        update = fake.send_text(DM, ALICE, "/help")

        statuses = [await _post(url, update, "forged"), await _post(url, update, secret)]
        answer = await fake.wait_for("sendMessage")

        assert statuses == [403, 200]
        assert answer.params["text"] == t("en", "help")
        assert fake.calls("getUpdates") == []
    finally:
        await handle.stop()
    assert len(fake.calls("sendMessage")) == 1


# Helpers


async def _answer_to(fake: FakeTelegram, update: JSON) -> Call:
    """The bot's message that replies to the message in `update`."""
    message = update["message"]

    def replies(call: Call) -> bool:
        return call.method in ("sendMessage", "sendPhoto") and _is_reply_to(call, message)

    return await fake.wait_for(replies)


def _replies_to(fake: FakeTelegram, update: JSON) -> list[Call]:
    return [c for c in fake.sent if c.ok and _is_reply_to(c, update["message"])]


def _is_reply_to(call: Call, message: JSON) -> bool:
    quoted = call.params.get("reply_parameters") or {}
    return (
        call.params.get("chat_id") == message["chat"]["id"]
        and quoted.get("message_id") == message["message_id"]
    )


def _buttons(call: Call, row: int | None = 0) -> list[JSON]:
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    return keyboard[row] if row is not None else [b for r in keyboard for b in r]


def _note_id(answer: Call) -> int:
    return int(_buttons(answer)[0]["callback_data"].split(":")[1])


async def _reply_id(service: VoiceMoodService, note_id: int) -> str | None:
    return (await service.store.get_note(note_id)).reply_message_id


async def _vote_labels(service: VoiceMoodService, note_id: int) -> list[str]:
    return [v.label for v in await service.store.votes(note_id)]


async def _linked(service: VoiceMoodService, chat_id: int, message_id: int) -> bool:
    chat = await service.store.ensure_chat("telegram", str(chat_id), "private")
    return await service.store.find_note_by_reply(chat, str(message_id)) is not None


async def _moved(service: VoiceMoodService, old: JSON, new: JSON) -> bool:
    gone = await service.store.find_chat("telegram", str(old["id"])) is None
    return gone and await service.store.find_chat("telegram", str(new["id"])) is not None


def _results_of(service: VoiceMoodService, method: str) -> asyncio.Queue[Any]:
    """What the service's `method` returns each time the bot calls it (it still does its work)."""
    results: asyncio.Queue[Any] = asyncio.Queue()
    real = getattr(service, method)

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        results.put_nowait(result)
        return result

    setattr(service, method, recorded)
    return results


async def _eventually(probe: Callable[[], Awaitable[Any]], expected: Any) -> None:
    """Wait until `probe()` returns `expected`: for what the bot stores without sending anything."""
    async with asyncio.timeout(WAIT_S):
        # Polling the database: the bot offers no event to wait on for a stored vote.
        while await probe() != expected:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="PNG")
    return buffer.getvalue()


async def _post(url: str, update: JSON, secret: str) -> int:
    """Post an update the way Telegram calls a webhook; the HTTP status."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=update, headers=headers) as r,
    ):
        return r.status


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
