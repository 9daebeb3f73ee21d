"""`voicemood run`: the bots and the web page in one process, sharing one model and one worker.

Telegram starts when VOICEMOOD_TELEGRAM_TOKEN is set, Discord when VOICEMOOD_DISCORD_TOKEN is
set, and the web page unless VOICEMOOD_WEB_ENABLED=false (with no token at all it is the way to
try VoiceMood). SIGINT/SIGTERM stop the platforms first, then drain the worker, then close storage.
SIGHUP loads VOICEMOOD_MODEL again and swaps it in without dropping a note, as a change of a
local model folder does by itself (inference.reload).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any, Protocol

from voicemood.settings import Settings

NAME = "run"
HELP = "Run the Telegram and Discord bots and the web page (whichever are configured)."

log = logging.getLogger("voicemood")


class _Running(Protocol):
    async def stop(self) -> None: ...


class WebPageUnavailable(Exception):
    """Only the web page was asked for, and it cannot listen where the settings say."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the least important log lines shown (default: %(default)s)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from inference.errors import VoiceMoodError
    from voicemood.logs import configure_logging, secrets_of

    configure_logging(args.log_level, settings.log_json, secrets=secrets_of(settings))
    try:
        return asyncio.run(serve(settings))
    except (VoiceMoodError, WebPageUnavailable) as error:
        print(f"voicemood: {error}", file=sys.stderr)
        return 2


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Start everything configured, wait for `stop` (or a signal), then shut down in order."""
    from inference.labels import CANONICAL_LABELS
    from inference.worker import InferenceWorker
    from storage.store import Store
    from voicemood.wiring import (
        build_analyzer,
        build_reloader,
        build_remote_analyzer,
        build_service,
    )

    if settings.redis_url is not None:
        # The model runs in `voicemood worker` processes, which reload it themselves.
        analyzer = build_remote_analyzer(settings)
        reloader: Any = contextlib.nullcontext()
        reload: Callable[[], None] = lambda: log.info(  # noqa: E731
            "SIGHUP: the model is reloaded by the `voicemood worker` processes, not here"
        )
    else:
        analyzer = build_analyzer(settings)
        assert isinstance(analyzer.worker, InferenceWorker)
        reloader = build_reloader(settings, analyzer.worker)
        reload = reloader.trigger
    stop = stop or _stop_on_signals(reload=reload)
    store = await Store.open(settings.database_target, settings.data_dir, labels=CANONICAL_LABELS)
    running: list[_Running] = []
    # Leaving the block stops the reloader before the worker drains, and both before storage.
    async with store, analyzer.worker, reloader:
        service = build_service(analyzer, store, settings)
        await analyzer.warm_up()  # before the bots and /healthz: healthy means a fast first answer
        try:
            running = await _start_platforms(service, settings)
            if not running:
                log.error("nothing to run: set a bot token or enable the web page")
                return 2
            log.info("VoiceMood is running with model %s", analyzer.worker.name)
            await stop.wait()
        finally:
            for platform in reversed(running):
                with contextlib.suppress(Exception):
                    await platform.stop()
    return 0


async def _start_platforms(service: Any, settings: Settings) -> list[_Running]:
    started: list[_Running] = []
    if settings.telegram_token is not None:
        from bots.telegram.app import start_telegram

        limiter = None
        if settings.redis_url is not None:
            from bots.telegram.ratelimit import SharedRateLimiter

            # Replicas share Telegram's flood limits through the same Redis as the workers.
            limiter = SharedRateLimiter(
                settings.redis_url.get_secret_value(), settings.redis_prefix
            )
        started.append(
            await start_telegram(
                service,
                settings.telegram_token.get_secret_value(),
                api_base=settings.telegram_api_base,
                file_base=settings.telegram_file_base,
                webhook_url=settings.telegram_webhook_url,
                webhook_listen=settings.telegram_webhook_listen,
                webhook_port=settings.telegram_webhook_port,
                webhook_secret=(
                    settings.telegram_webhook_secret.get_secret_value()
                    if settings.telegram_webhook_secret is not None
                    else None
                ),
                rate_limiter=limiter,
            )
        )
        log.info("Telegram bot started")
    else:
        log.info("Telegram bot off: VOICEMOOD_TELEGRAM_TOKEN is not set")
    if settings.discord_token is not None:
        from bots.discord.app import start_discord

        started.append(
            await start_discord(
                service,
                settings.discord_token.get_secret_value(),
                api_base=settings.discord_api_base,
                gateway=settings.discord_gateway,
                shard_count=settings.discord_shard_count,
                shard_ids=settings.shard_ids(),
            )
        )
        log.info("Discord bot started")
    else:
        log.info("Discord bot off: VOICEMOOD_DISCORD_TOKEN is not set")
    if settings.web_enabled:
        from bots.web.server import start_web

        try:
            web = await start_web(service, host=settings.web_host, port=settings.web_port)
        except OSError as error:
            # A taken port must not take the bots down with it: they were asked for first.
            problem = _cannot_listen(settings, error)
            if not started:
                raise WebPageUnavailable(problem) from error
            log.error("%s The bots keep running without it.", problem)
        else:
            started.append(web)
            log.info("web page at %s", web.url)
    else:
        log.info("web page off: VOICEMOOD_WEB_ENABLED is false")
    return started


def _cannot_listen(settings: Settings, error: OSError) -> str:
    where = f"{settings.web_host}:{settings.web_port}"
    if error.errno == errno.EADDRINUSE:
        why = f"port {settings.web_port} is already in use ({where})"
    else:
        why = f"it cannot listen on {where} ({error.strerror or error})"
    return (
        f"The web page cannot start: {why}. Set VOICEMOOD_WEB_PORT to a free port, "
        "or VOICEMOOD_WEB_ENABLED=false to run without the page."
    )


def _stop_on_signals(*, reload: Callable[[], None]) -> asyncio.Event:
    """SIGINT/SIGTERM set the returned event; SIGHUP (whose default would kill us) calls `reload`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload)
    return stop
