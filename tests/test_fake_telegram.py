"""The fake Bot API server, driven by the real python-telegram-bot Application over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from PIL import Image
from telegram import (
    BotCommand,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    TelegramObject,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    MessageReactionHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from tests.fakes.telegram import FakeTelegram, chat_member, group_chat, make_user, private_chat
from tests.fakes.telegram_app import application_builder, polling
from tests.fakes.telegram_objects import STATUSES

ALICE = make_user(1001, "Alice", username="alice")
MINJUN = make_user(1002, "민준", username="minjun", language_code="ko")
GROUP = group_chat(-1001234567890, "Mood club")
WAIT = 5.0  # seconds a test waits for the bot to react before failing

StartApp = Callable[..., Awaitable[Application]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def start_app(fake: FakeTelegram) -> AsyncIterator[StartApp]:
    """start_app(*handlers) -> a real Application polling the fake; stopped cleanly at teardown."""
    errors: list[object] = []

    async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    async with contextlib.AsyncExitStack() as running:

        async def start(
            *handlers: BaseHandler,
            allowed_updates: list[str] | None = None,
            rate_limiter: AIORateLimiter | None = None,
        ) -> Application:
            # Unparametrised: setting a rate limiter changes the builder's type arguments.
            builder: ApplicationBuilder = application_builder(fake)
            if rate_limiter is not None:
                builder = builder.rate_limiter(rate_limiter)
            app = builder.build()
            app.add_handlers(list(handlers))
            app.add_error_handler(record_error)
            return await running.enter_async_context(polling(app, allowed_updates=allowed_updates))

        yield start
    assert not errors, f"handlers raised: {errors!r}"


def _collector() -> tuple[asyncio.Queue[Any], Callable[[], Awaitable[Any]]]:
    """A queue handlers put into, and a getter that fails the test if nothing arrives."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def next_item() -> Any:
        return await asyncio.wait_for(queue.get(), WAIT)

    return queue, next_item


async def test_voice_note_reaches_voice_handler_and_downloads_the_exact_bytes(
    fake, start_app, make_audio
):
    ogg = make_audio("note.ogg", seconds=1.0).read_bytes()
    got, next_item = _collector()

    async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        voice = _message(update).voice
        assert voice is not None
        data = await (await voice.get_file()).download_as_bytearray()
        await got.put((voice, bytes(data)))

    await start_app(MessageHandler(filters.VOICE, on_voice))
    update = fake.send_voice(private_chat(ALICE), ALICE, ogg, duration=1)

    voice, data = await next_item()
    assert data == ogg
    assert voice.file_id == update["message"]["voice"]["file_id"]
    assert (voice.mime_type, voice.file_size) == ("audio/ogg", len(ogg))
    assert fake.downloads == [fake.calls("getFile")[0].result["file_path"]]


async def test_command_reaches_command_handler_only_when_addressed_to_this_bot(fake, start_app):
    got, next_item = _collector()

    async def on_mood(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await got.put((_message(update).chat.type, context.args))

    await start_app(CommandHandler("mood", on_mood))
    fake.send_text(GROUP, ALICE, "/mood@some_other_bot ignored")
    fake.send_text(GROUP, MINJUN, "/mood@voicemood_test_bot 오늘 기분")
    fake.send_text(private_chat(ALICE), ALICE, "/mood now")

    assert await next_item() == ("supergroup", ["오늘", "기분"])
    assert await next_item() == ("private", ["now"])


async def test_reply_text_with_inline_keyboard_is_recorded_with_its_buttons(fake, start_app):
    got, next_item = _collector()
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("😊 happy", callback_data="fb:happy")],
         [InlineKeyboardButton("😢 sad", callback_data="fb:sad")]]
    )  # fmt: skip

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await got.put(
            await _message(update).reply_text("Sounded calm.", reply_markup=keyboard, do_quote=True)
        )

    await start_app(MessageHandler(filters.TEXT, on_text))
    asked = fake.send_text(private_chat(ALICE), ALICE, "how did I sound?")

    reply = await next_item()
    call = fake.calls("sendMessage")[0]
    assert call.params["text"] == "Sounded calm."
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "😊 happy", "callback_data": "fb:happy"}],
            [{"text": "😢 sad", "callback_data": "fb:sad"}],
        ]
    }
    assert reply.reply_markup == keyboard
    assert reply.reply_to_message.message_id == asked["message"]["message_id"]
    assert reply.from_user.username == "voicemood_test_bot"


async def test_callback_query_reaches_handler_and_its_answer_is_recorded(fake, start_app):
    got, next_item = _collector()

    async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        buttons = [[InlineKeyboardButton("😢 sad", callback_data="fb:sad")]]
        await _message(update).reply_text("Happy?", reply_markup=InlineKeyboardMarkup(buttons))

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Thanks!")
        await query.edit_message_text(f"Noted: {query.data}")
        await got.put(query)

    await start_app(CommandHandler("start", on_start), CallbackQueryHandler(on_button))
    fake.send_text(private_chat(ALICE), ALICE, "/start")
    sent = await fake.wait_for("sendMessage")
    pressed = fake.press_button(private_chat(ALICE), ALICE, sent.result["message_id"], "fb:sad")

    query = await next_item()
    assert (query.data, query.from_user.id) == ("fb:sad", ALICE["id"])
    answer = fake.calls("answerCallbackQuery")[0]
    assert answer.params["callback_query_id"] == pressed["callback_query"]["id"]
    assert answer.params["text"] == "Thanks!"
    edited = fake.message(ALICE["id"], sent.result["message_id"])
    assert edited is not None
    assert edited["text"] == "Noted: fb:sad"
    assert "reply_markup" not in edited  # editing without a keyboard removes it, as Telegram does


async def test_edit_message_text_changes_the_message_and_refuses_an_identical_edit(fake, start_app):
    app = await start_app()
    fake.send_text(private_chat(ALICE), ALICE, "hi")  # the bot can only write to known chats
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="ok")]])
    sent = await app.bot.send_message(ALICE["id"], "Listening…")

    edited = await app.bot.edit_message_text(
        "Sounded happy.", ALICE["id"], sent.message_id, reply_markup=keyboard
    )
    with pytest.raises(BadRequest, match="not modified"):
        await app.bot.edit_message_text(
            "Sounded happy.", ALICE["id"], sent.message_id, reply_markup=keyboard
        )
    unmarked = await app.bot.edit_message_reply_markup(ALICE["id"], sent.message_id)

    assert (edited.text, edited.reply_markup) == ("Sounded happy.", keyboard)
    assert edited.edit_date is not None
    assert unmarked.reply_markup is None
    assert fake.message(ALICE["id"], sent.message_id)["text"] == "Sounded happy."


async def test_reaction_reaches_reaction_handler_when_the_bot_asks_for_message_reaction(
    fake, start_app
):
    got, next_item = _collector()

    async def on_reaction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await got.put(update.message_reaction)

    app = await start_app(
        MessageReactionHandler(on_reaction),
        allowed_updates=[Update.MESSAGE, Update.MESSAGE_REACTION],
    )
    fake.send_text(GROUP, ALICE, "hi all")
    sent = await app.bot.send_message(GROUP["id"], "The chat sounds cheerful.")
    fake.react(GROUP, MINJUN, sent.message_id, "👍")
    fake.react(GROUP, MINJUN, sent.message_id, "🔥")

    first, second = await next_item(), await next_item()
    assert "message_reaction" in fake.allowed_updates
    assert (first.message_id, first.user.id) == (sent.message_id, MINJUN["id"])
    assert [r.emoji for r in first.old_reaction] == []
    assert [r.emoji for r in first.new_reaction] == ["👍"]
    assert [r.emoji for r in second.old_reaction] == ["👍"]
    assert [r.emoji for r in second.new_reaction] == ["🔥"]


async def test_reaction_is_not_delivered_to_a_bot_that_did_not_ask_for_it(fake, start_app):
    reactions: list[object] = []
    got, next_item = _collector()

    async def on_reaction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        reactions.append(update.message_reaction)

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await got.put(_message(update).text)

    await start_app(MessageReactionHandler(on_reaction), MessageHandler(filters.TEXT, on_text))
    said = fake.send_text(GROUP, ALICE, "first")
    fake.react(GROUP, MINJUN, said["message"]["message_id"], "👍")
    fake.send_text(GROUP, ALICE, "second")

    # Updates are handled in order, so the reaction would have been handled before "second".
    assert [await next_item(), await next_item()] == ["first", "second"]
    assert reactions == []
    assert fake.allowed_updates is None


async def test_bot_cannot_message_first_a_user_it_only_saw_in_a_group(fake, start_app):
    app = await start_app()
    fake.send_text(GROUP, MINJUN, "hello group")

    with pytest.raises(Forbidden, match="initiate conversation"):
        await app.bot.send_message(MINJUN["id"], "Want me to listen to your notes?")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await app.bot.send_message(424242, "nobody")
    fake.send_text(private_chat(MINJUN), MINJUN, "/start")
    assert (await app.bot.send_message(MINJUN["id"], "Hi!")).chat.type == "private"


async def test_send_photo_uploads_the_image_bytes(fake, start_app):
    app = await start_app()
    fake.send_text(private_chat(ALICE), ALICE, "/summary")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 16), "orange").save(buffer, format="PNG")
    png = buffer.getvalue()

    message = await app.bot.send_photo(ALICE["id"], png, caption="Mood map")

    call = fake.calls("sendPhoto")[0]
    assert call.files["photo"] == png
    assert call.params["caption"] == "Mood map"
    assert (message.photo[-1].width, message.photo[-1].height) == (32, 16)
    assert await (await message.photo[-1].get_file()).download_as_bytearray() == png


async def test_send_document_keeps_the_files_name_and_bytes(fake, start_app):
    app = await start_app()
    fake.send_text(private_chat(ALICE), ALICE, "/export")

    message = await app.bot.send_document(ALICE["id"], InputFile(b"a,b\n1,2\n", filename="x.csv"))

    call = fake.calls("sendDocument")[0]
    assert call.files["document"] == b"a,b\n1,2\n"
    assert message.document.file_name == "x.csv"
    assert await (await message.document.get_file()).download_as_bytearray() == b"a,b\n1,2\n"


async def test_send_photo_with_undecodable_bytes_is_refused(fake, start_app):
    app = await start_app()
    fake.send_text(private_chat(ALICE), ALICE, "/summary")

    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await app.bot.send_photo(ALICE["id"], b"not an image at all")


async def test_flood_control_429_raises_retry_after_on_a_direct_call(fake, start_app):
    app = await start_app()
    fake.send_text(private_chat(ALICE), ALICE, "hi")
    fake.fail_next("sendMessage", retry_after=1)

    with pytest.raises(RetryAfter) as raised:
        await app.bot.send_message(ALICE["id"], "too soon")
    await app.bot.send_message(ALICE["id"], "later")

    with warnings.catch_warnings():  # retry_after's int/timedelta migration warns when read
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        assert raised.value.retry_after in (1, dt.timedelta(seconds=1))
    attempts = fake.calls("sendMessage", failed=True)
    assert [(c.params["text"], c.error_code) for c in attempts] == [
        ("too soon", 429),
        ("later", None),
    ]


async def test_rate_limiter_waits_out_a_429_and_the_message_is_sent(fake, start_app):
    app = await start_app(rate_limiter=AIORateLimiter(max_retries=2))
    fake.send_text(private_chat(ALICE), ALICE, "hi")
    fake.fail_next("sendMessage", retry_after=1)

    message = await app.bot.send_message(ALICE["id"], "Sounded calm.")

    refused, accepted = fake.calls("sendMessage", failed=True)
    assert (refused.error_code, accepted.error_code) == (429, None)
    assert accepted.time - refused.time >= 1.0  # it waited as long as Telegram asked
    assert message.message_id == accepted.result["message_id"]


async def test_network_failures_raise_network_error_and_polling_recovers(fake, start_app):
    got, next_item = _collector()

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await got.put(_message(update).text)

    app = await start_app(MessageHandler(filters.TEXT, on_text))
    fake.send_text(private_chat(ALICE), ALICE, "hello")
    assert await next_item() == "hello"
    fake.fail_next_network("sendMessage")
    fake.fail_next_network("sendMessage", close=True)
    fake.fail_next_network("getUpdates")

    with pytest.raises(NetworkError, match="Bad Gateway"):
        await app.bot.send_message(ALICE["id"], "one")
    with pytest.raises(NetworkError):
        await app.bot.send_message(ALICE["id"], "two")
    await fake.wait_for(lambda c: c.method == "getUpdates" and c.error_code == 502, failed=True)
    fake.send_text(private_chat(ALICE), ALICE, "still there?")

    assert await next_item() == "still there?"
    assert [c.error_code for c in fake.calls("sendMessage", failed=True)] == [502, 0]


async def test_update_is_delivered_once_after_its_offset_is_confirmed(fake, start_app):
    seen: list[str] = []
    got, next_item = _collector()

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(str(_message(update).text))
        await got.put(None)

    first_run = application_builder(fake).build()
    first_run.add_handler(MessageHandler(filters.TEXT, on_text))
    async with polling(first_run):
        first = fake.send_text(private_chat(ALICE), ALICE, "first")
        await next_item()
    assert fake.pending_updates == []  # stopping confirmed it with one last getUpdates(offset)

    await start_app(MessageHandler(filters.TEXT, on_text))
    fake.send_text(private_chat(ALICE), ALICE, "second")
    await next_item()

    assert seen == ["first", "second"]
    offsets = [c.params.get("offset") for c in fake.calls("getUpdates")]
    assert first["update_id"] + 1 in offsets


async def test_unconfirmed_updates_are_delivered_again_and_a_positive_offset_drops_them(fake):
    """Raw HTTP (JSON POST and GET), as any client would speak to it; method names ignore case."""
    update = fake.send_text(private_chat(ALICE), ALICE, "hello")
    url = f"{fake.base_url}/bot{fake.token}"

    async with aiohttp.ClientSession() as session:
        first = await _api(session, f"{url}/getUpdates")
        async with session.get(f"{url}/GETUPDATES", params={"timeout": "0"}) as response:
            again = await response.json()
        confirmed = await _api(session, f"{url}/getupdates", offset=update["update_id"] + 1)

    assert first["result"] == again["result"] == [update]
    assert confirmed == {"ok": True, "result": []}


async def test_unknown_method_and_wrong_token_answer_like_telegram(fake):
    async with aiohttp.ClientSession() as session:
        unknown = await _api(session, f"{fake.base_url}/bot{fake.token}/sendTelepathy")
        wrong_token = await _api(session, f"{fake.base_url}/bot1:wrong/getMe")
        async with session.get(f"{fake.base_url}/bot{fake.token}/GetMe") as response:
            me = await response.json()

    assert unknown == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert wrong_token == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert me["result"]["username"] == "voicemood_test_bot"


async def test_commands_are_recorded_and_read_back_per_language(fake, start_app):
    app = await start_app()

    await app.bot.set_my_commands([("mood", "How did that sound?")])
    await app.bot.set_my_commands([("mood", "어떻게 들렸나요?")], language_code="ko")

    assert await app.bot.get_my_commands() == (BotCommand("mood", "How did that sound?"),)
    korean = await app.bot.get_my_commands(language_code="ko")
    assert korean[0].description == "어떻게 들렸나요?"
    assert len(fake.calls("setMyCommands")) == 2
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await app.bot.set_my_commands([("Mood Now", "spaces are not allowed")])


async def test_chat_member_status_is_configurable_so_the_bot_can_check_admin_rights(
    fake, start_app
):
    app = await start_app()
    owner = make_user(1003, "Owner")
    fake.add_member(GROUP, owner, "creator")
    fake.add_member(GROUP, ALICE, "administrator", can_delete_messages=False)
    fake.add_member(GROUP, MINJUN, "member")

    alice = await app.bot.get_chat_member(GROUP["id"], ALICE["id"])
    minjun = await app.bot.get_chat_member(GROUP["id"], MINJUN["id"])
    admins = await app.bot.get_chat_administrators(GROUP["id"])

    assert isinstance(alice, ChatMemberAdministrator)
    assert alice.can_delete_messages is False
    assert isinstance(minjun, ChatMemberMember)
    assert {type(m) for m in admins} == {ChatMemberOwner, ChatMemberAdministrator}
    assert {m.user.id for m in admins} == {owner["id"], ALICE["id"]}
    with pytest.raises(BadRequest, match="(?i)user not found"):
        await app.bot.get_chat_member(GROUP["id"], 999)


async def test_chat_action_reaction_and_delete_are_recorded(fake, start_app):
    app = await start_app()
    said = fake.send_text(private_chat(ALICE), ALICE, "hi")
    message_id = said["message"]["message_id"]

    await app.bot.send_chat_action(ALICE["id"], "record_voice")
    await app.bot.set_message_reaction(ALICE["id"], message_id, "👀")
    with pytest.raises(BadRequest, match="(?i)reaction_invalid"):
        await app.bot.set_message_reaction(ALICE["id"], message_id, "🦜")
    assert await app.bot.delete_message(ALICE["id"], message_id) is True
    with pytest.raises(BadRequest, match="not found"):
        await app.bot.delete_message(ALICE["id"], message_id)

    assert fake.calls("sendChatAction")[0].params["action"] == "record_voice"
    assert fake.calls("setMessageReaction")[0].params["reaction"] == [
        {"type": "emoji", "emoji": "👀"}
    ]
    assert fake.message(ALICE["id"], message_id) is None


async def test_get_file_refuses_files_over_the_download_limit(fake, start_app):
    app = await start_app()
    file_id, _ = fake.add_file(b"x" * 2048, folder="voice", extension="oga")
    fake.max_download_bytes = 1024

    with pytest.raises(BadRequest, match="too big"):
        await app.bot.get_file(file_id)


async def test_every_object_the_fake_makes_parses_in_ptb_with_no_unknown_fields(fake, start_app):
    app = await start_app()
    bot = app.bot
    chat = private_chat(MINJUN)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("😢", callback_data="fb:sad")]])
    said = fake.send_text(chat, MINJUN, "/start@voicemood_test_bot 🎉 /help")
    sent = await bot.send_message(MINJUN["id"], "안녕", reply_markup=keyboard)
    updates = [
        said,
        fake.send_voice(chat, MINJUN, b"OggS voice", duration=2.4, caption="listen"),
        fake.send_audio(chat, MINJUN, b"ID3 mp3", duration=61, title="Song", performer="Me"),
        fake.send_video_note(chat, MINJUN, b"mp4 bytes", duration=3),
        fake.send_document(chat, MINJUN, b"RIFF wav", file_name="note.wav", mime="audio/wav"),
        fake.send_text(chat, MINJUN, "that was wrong", reply_to=sent.message_id),
        fake.press_button(chat, MINJUN, sent.message_id, "fb:sad"),
        fake.react(chat, MINJUN, sent.message_id, ["👍", "🔥"]),
        fake.send_voice(GROUP, ALICE, b"OggS group", duration=1),
    ]
    parsed = [Update.de_json(update, bot) for update in updates]
    members = [ChatMember.de_json(chat_member(ALICE, status), bot) for status in STATUSES]
    results = [
        await bot.get_me(),
        sent,
        await bot.get_file(updates[1]["message"]["voice"]["file_id"]),
        await bot.edit_message_text("수정", MINJUN["id"], sent.message_id),
    ]

    for obj in [*parsed, *members, *results]:
        assert _unknown_fields(obj) == [], obj
    command, voice_note, reply = (_message(parsed[i]) for i in (0, 1, 5))
    assert [e.type for e in command.entities] == ["bot_command", "bot_command"]
    commands = command.parse_entities(["bot_command"]).values()
    assert sorted(commands) == ["/help", "/start@voicemood_test_bot"]  # UTF-16 offsets past 🎉
    assert voice_note.voice is not None and voice_note.voice.file_size == len(b"OggS voice")
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == sent.message_id
    assert parsed[6].callback_query is not None
    assert isinstance(pressed := parsed[6].callback_query.message, Message)
    assert pressed.reply_markup == keyboard
    assert [type(m).__name__ for m in members] == [
        "ChatMemberOwner",
        "ChatMemberAdministrator",
        "ChatMemberMember",
        "ChatMemberRestricted",
        "ChatMemberLeft",
        "ChatMemberBanned",
    ]


def _message(update: Update) -> Message:
    """The update's message: every handler here is registered for message updates."""
    assert update.effective_message is not None
    return update.effective_message


async def _api(session: aiohttp.ClientSession, url: str, **params: Any) -> dict[str, Any]:
    async with session.post(url, json=params) as response:
        return await response.json()


def _unknown_fields(value: object, path: str = "") -> list[str]:
    """Paths of fields PTB did not recognise (it parks them in api_kwargs), walking nested objects."""
    if isinstance(value, (list, tuple)):
        return [
            found for i, item in enumerate(value) for found in _unknown_fields(item, f"{path}[{i}]")
        ]
    if not isinstance(value, TelegramObject):
        return []
    found = (
        [f"{path or type(value).__name__}: {sorted(value.api_kwargs)}"] if value.api_kwargs else []
    )
    for cls in type(value).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if not slot.startswith("_"):
                found += _unknown_fields(getattr(value, slot, None), f"{path}.{slot}")
    return found
