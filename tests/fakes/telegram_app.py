"""Point a real python-telegram-bot Application at a FakeTelegram and run it for one test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from telegram.ext import Application, ApplicationBuilder

from tests.fakes.telegram import FakeTelegram


def application_builder(fake: FakeTelegram) -> ApplicationBuilder:
    """An ApplicationBuilder with the fake's token, base_url and base_file_url already set."""
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(f"{fake.base_url}/bot")
        .base_file_url(f"{fake.base_file_url}/file/bot")
    )


@contextlib.asynccontextmanager
async def polling(
    app: Application, *, allowed_updates: Sequence[str] | None = None
) -> AsyncIterator[Application]:
    """Initialize, start and poll (1 s long polls, no pause between them); stop cleanly after."""
    try:
        await app.initialize()
        await app.start()
        assert app.updater is not None, "build the Application with an Updater to poll"
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=allowed_updates)
        yield app
    finally:
        # Stopping the updater makes PTB confirm what it fetched with one last getUpdates(offset).
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
