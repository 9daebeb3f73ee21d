"""Telegram's flood limits shared by every replica, through Redis.

Telegram lets a bot send about 30 messages a second in all and 20 a minute into one group. One
process keeps to that with PTB's AIORateLimiter, whose counters live in its memory; several
replicas behind one webhook would each allow the full rate, together N times too much, and learn
it only from 429s. With `VOICEMOOD_REDIS_URL` set, the counters live in Redis instead: a sliding
window per limit (a sorted set of send times, checked and added to in one Lua script, on Redis's
own clock so replicas on other machines agree), and a 429's "retry after" pauses every replica.

If Redis cannot be reached, a send is not held back (Telegram's 429s, retried here, still keep the
bot within its limits): a shared limiter must never be the reason a person gets no answer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger("bots.telegram_bot")

# KEYS[1]: the window's sorted set; ARGV: max sends, period ms, a unique member.
# Returns 0 when the send may go now (and records it), else the ms until a slot frees.
_TAKE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local period = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - period)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ms, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + period - ms)
"""

JSONResult = Any


class SharedRateLimiter(BaseRateLimiter[int]):
    """PTB's rate limiter over Redis: the same limits as AIORateLimiter, for all replicas at once."""

    def __init__(
        self,
        url: str,
        prefix: str = "voicemood",
        *,
        overall: tuple[float, float] = (FloodLimit.MESSAGES_PER_SECOND, 1.0),
        per_group: tuple[float, float] = (FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP, 60.0),
        max_retries: int = 3,
    ) -> None:
        """`overall` and `per_group`: (sends, seconds) windows, Telegram's by default."""
        self.url, self.prefix = url, prefix
        self.overall, self.per_group, self.max_retries = overall, per_group, max_retries
        self._redis: Any = None
        self._take: Any = None
        self._warned = False

    async def initialize(self) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
        self._take = self._redis.register_script(_TAKE)

    async def shutdown(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        chat_id = data.get("chat_id")
        retries = rate_limit_args or self.max_retries
        for attempt in range(retries + 1):
            await self._wait_for_pause()
            if chat_id is not None:
                await self._slot("all", self.overall)
                if _is_group(chat_id):
                    await self._slot(f"chat:{chat_id}", self.per_group)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                wait_s = error.retry_after
                seconds = wait_s if isinstance(wait_s, int | float) else wait_s.total_seconds()
                log.info("Telegram asked to wait %.1f s; every replica waits", seconds)
                await self._pause_all(seconds + 0.1)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _slot(self, name: str, window: tuple[float, float]) -> None:
        """Wait until the shared window `name` has room, and take a place in it."""
        sends, seconds = window
        key = f"{self.prefix}:tg-rate:{name}"
        member = uuid.uuid4().hex
        while True:
            try:
                wait_ms = int(
                    await self._take(keys=[key], args=[int(sends), int(seconds * 1000), member])
                )
            except Exception as error:  # Redis away: do not hold the answer back
                self._warn(error)
                return
            if wait_ms <= 0:
                return
            await asyncio.sleep(wait_ms / 1000)

    async def _pause_all(self, seconds: float) -> None:
        try:
            await self._redis.set(f"{self.prefix}:tg-rate:pause", "1", px=int(seconds * 1000))
        except Exception as error:
            self._warn(error)
            await asyncio.sleep(seconds)

    async def _wait_for_pause(self) -> None:
        try:
            left_ms = await self._redis.pttl(f"{self.prefix}:tg-rate:pause")
        except Exception as error:
            self._warn(error)
            return
        if left_ms and left_ms > 0:
            await asyncio.sleep(left_ms / 1000)

    def _warn(self, error: Exception) -> None:
        if not self._warned:
            log.warning(
                "the shared rate limit is unavailable (%s); sending without it",
                type(error).__name__,
            )
            self._warned = True


def _is_group(chat_id: object) -> bool:
    """Groups and channels have negative ids (or an @name); private chats are limited overall only."""
    if isinstance(chat_id, str):
        try:
            return int(chat_id) < 0
        except ValueError:
            return True
    return isinstance(chat_id, int) and chat_id < 0
