"""Starting the Telegram bot: the Application, its handlers in one block, the command menu.

python-telegram-bot 22 does the platform work: long polling or a webhook, concurrent update
processing (a burst of voice notes is analysed side by side, so the shared worker can batch),
flood control (AIORateLimiter waits out Telegram's 429s) and the job queue that posts daily
digests when the service says they are due.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import operator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand
from telegram.constants import BotCommandLimit, FileSizeLimit
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    MessageReactionHandler,
    filters,
)

from bots.core.commands import COMMANDS, MENU, describe
from bots.core.service import VoiceMoodService
from bots.telegram.handlers import ALLOWED_UPDATES, TelegramAdapter
from common.audio import RECORDING_SUFFIXES

log = logging.getLogger("bots.telegram_bot")

COMMAND_NAMES = tuple(command.name for command in COMMANDS)
# Telegram offers /start by itself, so the menu leaves it out.
MENU_NAMES = tuple(command.name for command in MENU)
MENU_LANGUAGES = ("en", "ko")
RECORDINGS = filters.UpdateType.MESSAGE & (
    filters.VOICE
    | filters.AUDIO
    | filters.VIDEO_NOTE
    | filters.VIDEO
    | filters.Document.AUDIO
    | functools.reduce(operator.or_, map(filters.Document.FileExtension, RECORDING_SUFFIXES))
)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class TelegramHandle:
    """A running Telegram bot; `stop()` ends polling (or the webhook) and closes it cleanly."""

    application: TelegramApp

    async def stop(self) -> None:
        """Stop fetching updates, finish the ones in hand, then close the connections."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


async def start_telegram(
    service: VoiceMoodService,
    token: str,
    *,
    api_base: str | None = None,
    file_base: str | None = None,
    webhook_url: str | None = None,
    webhook_listen: str = "0.0.0.0",
    webhook_port: int = 8443,
    webhook_secret: str | None = None,
    poll_timeout_s: float = 10.0,
    **options: Any,
) -> TelegramHandle:
    """Start the bot on the running event loop: long polling, or a webhook when a URL is given.

    `options` go to build_application. The command menu is registered in English and Korean.
    Behind a load balancer every replica registers the same webhook with the same secret
    (`webhook_secret`, or one derived from the token), so any replica accepts any update and
    a replica that starts later does not lock the others out.
    """
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    httpx_log = logging.getLogger("httpx")
    httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))
    app = build_application(service, token, api_base=api_base, file_base=file_base, **options)
    try:
        await app.initialize()
        await register_commands(app.bot)
        await app.start()
        assert app.updater is not None
        if webhook_url:
            await app.updater.start_webhook(
                listen=webhook_listen,
                port=webhook_port,
                url_path=urlparse(webhook_url).path.lstrip("/"),
                webhook_url=webhook_url,
                allowed_updates=list(ALLOWED_UPDATES),
                # Telegram echoes this in a header, so forged updates are refused.
                secret_token=webhook_secret or derived_webhook_secret(token),
                bootstrap_retries=3,
            )
        else:
            await app.updater.start_polling(
                poll_interval=0,
                timeout=timedelta(seconds=poll_timeout_s),
                allowed_updates=list(ALLOWED_UPDATES),
                bootstrap_retries=3,
            )
    except BaseException:
        await TelegramHandle(app).stop()
        raise
    return TelegramHandle(app)


def derived_webhook_secret(token: str) -> str:
    """The webhook's secret for this bot token: the same in every replica, useless without it.

    An HMAC of a fixed label under the token: whoever can read it could run the bot anyway, and
    it reveals nothing of the token (Telegram allows 1-256 of A-Z, a-z, 0-9, _ and -).
    """
    return hmac.new(token.encode(), b"voicemood telegram webhook", hashlib.sha256).hexdigest()


def build_application(
    service: VoiceMoodService,
    token: str,
    *,
    api_base: str | None = None,
    file_base: str | None = None,
    concurrent_updates: int = 256,
    download_limit_bytes: int | None = FileSizeLimit.FILESIZE_DOWNLOAD,
    digest_check_s: float = 60.0,
    flood_retries: int = 3,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> TelegramApp:
    """The Application with every handler; `download_limit_bytes` is None for a local Bot API.

    Voice notes are processed concurrently (up to `concurrent_updates` at a time): the shared
    worker's bounded queue, not this adapter, decides when to answer "busy". `rate_limiter`
    replaces the in-process flood limits (bots.telegram.ratelimit shares them between replicas).
    """
    builder = (
        ApplicationBuilder()
        .token(token)
        .concurrent_updates(concurrent_updates)
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=flood_retries))
        # A burst shares the connection pool with downloads: wait for a free connection.
        .pool_timeout(30.0)
    )
    if api_base:
        builder = builder.base_url(api_base)
    if file_base:
        builder = builder.base_file_url(file_base)
    app = builder.build()
    bot = TelegramAdapter(service, download_limit_bytes)
    app.add_handlers(
        [
            MessageHandler(RECORDINGS, bot.on_recording),
            CommandHandler(COMMAND_NAMES, bot.on_command),
            # In a private chat an unknown command gets a pointer to /help; in groups it may
            # be meant for another bot.
            MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, bot.on_command),
            CallbackQueryHandler(bot.on_button),
            MessageReactionHandler(bot.on_reaction),
            MessageHandler(filters.StatusUpdate.MIGRATE, bot.on_migration),
            ChatMemberHandler(bot.on_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        ]
    )
    app.add_error_handler(bot.on_error)
    if app.job_queue is None:
        raise RuntimeError("install python-telegram-bot[job-queue] for daily digests")
    app.job_queue.run_repeating(bot.post_due_digests, interval=digest_check_s, first=1.0)
    return app


async def register_commands(bot: ExtBot[Any]) -> None:
    """The command menu in English (the default) and Korean; a failure only logs."""
    for lang in MENU_LANGUAGES:
        menu = [BotCommand(name, command_description(lang, name)) for name in MENU_NAMES]
        try:
            await bot.set_my_commands(menu, language_code=None if lang == "en" else lang)
        except TelegramError as error:
            log.warning("registering the %s command menu failed: %s", lang, error)


def command_description(lang: str, command: str) -> str:
    """The menu line for `/command`: its arguments and what it does, from the help text."""
    arguments, description = describe(lang, command)
    line = f"{arguments} – {description}" if arguments else description
    return line[: BotCommandLimit.MAX_DESCRIPTION]
