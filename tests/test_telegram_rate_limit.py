"""Telegram's flood limit for a group holds across two replicas when they share it through Redis.

Two real PTB Applications in webhook mode against the fake Bot API, updates posted to them in
turn; the group limit is lowered to 3 messages per 2 s so the test is short. With the shared
limiter no 2 s window holds more than 3 of the bot's messages to the group; with each replica's
own in-process limiter (the control) the two together send twice that.
"""

# ruff: noqa: F811  (the fixtures imported from servers_redis are named as test arguments)
from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from telegram.ext import AIORateLimiter, BaseRateLimiter

from bots.telegram.app import derived_webhook_secret, start_telegram
from bots.telegram.ratelimit import SharedRateLimiter
from tests.fakes.telegram import FakeTelegram, group_chat, make_user
from tests.servers_redis import redis_prefix, redis_server  # noqa: F401  (fixtures)
from tests.service_factory import running_service
from tests.stats_model import StatsModel

GROUP = group_chat(-1009876543210, "Rate club")
PEOPLE = [make_user(3000 + i, f"Member {i}") for i in range(8)]
LIMIT, PERIOD_S = 3, 2.0


async def _group_reply_times(
    tmp_path: Path, limiter: Callable[[], BaseRateLimiter[Any]]
) -> list[float]:
    """Eight /help in the group, posted to two replicas in turn; when each reply was sent."""
    async with FakeTelegram() as fake, running_service(StatsModel(), tmp_path) as service:
        urls, handles = [], []
        try:
            for _ in range(2):
                port = _free_port()
                handles.append(
                    await start_telegram(
                        service,
                        fake.token,
                        api_base=f"{fake.base_url}/bot",
                        file_base=f"{fake.base_file_url}/file/bot",
                        webhook_url="http://127.0.0.1:9/telegram",
                        webhook_listen="127.0.0.1",
                        webhook_port=port,
                        rate_limiter=limiter(),
                    )
                )
                urls.append(f"http://127.0.0.1:{port}/telegram")
            headers = {"X-Telegram-Bot-Api-Secret-Token": derived_webhook_secret(fake.token)}
            async with aiohttp.ClientSession() as session:
                for i, person in enumerate(PEOPLE):
                    update = fake.send_text(GROUP, person, "/help")
                    async with session.post(urls[i % 2], json=update, headers=headers) as r:
                        assert r.status == 200
            await fake.wait_for(lambda _: len(_to_group(fake)) >= len(PEOPLE), timeout=30)
            return sorted(call.time for call in _to_group(fake))
        finally:
            for handle in handles:
                await handle.stop()


async def test_two_replicas_keep_one_groups_limit_together_through_redis(
    tmp_path, redis_server, redis_prefix
):
    times = await _group_reply_times(
        tmp_path,
        lambda: SharedRateLimiter(
            redis_server.url, redis_prefix, per_group=(LIMIT, PERIOD_S), max_retries=0
        ),
    )

    assert len(times) == len(PEOPLE)
    busiest = max(_in_any_window(times, PERIOD_S - 0.05))
    assert busiest <= LIMIT, times


async def test_without_sharing_two_replicas_send_twice_the_groups_limit(tmp_path):
    times = await _group_reply_times(
        tmp_path, lambda: AIORateLimiter(group_max_rate=LIMIT, group_time_period=PERIOD_S)
    )

    assert max(_in_any_window(times, PERIOD_S - 0.05)) > LIMIT, times


def _in_any_window(times: list[float], width: float) -> list[int]:
    return [sum(1 for t in times if start <= t < start + width) for start in times]


def _to_group(fake: FakeTelegram) -> list[Any]:
    return [c for c in fake.calls("sendMessage") if c.params.get("chat_id") == GROUP["id"]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_with_redis_unreachable_a_message_is_sent_without_the_shared_limit():
    limiter = SharedRateLimiter(f"redis://127.0.0.1:{_free_port()}/0", "gone")
    await limiter.initialize()
    sent = []

    async def send() -> dict[str, bool]:
        sent.append(True)
        return {"ok": True}

    try:
        for _ in range(3):
            result = await limiter.process_request(
                send, (), {}, "sendMessage", {"chat_id": GROUP["id"]}, None
            )
            assert result == {"ok": True}
    finally:
        await limiter.shutdown()
    assert len(sent) == 3
