"""Who is an admin of which group, remembered for a minute, for at most a bounded number of pairs.

Each command in a group asks getChatMember whether its sender may change the chat's settings;
the answer is reused briefly so a burst of commands costs one call. Kept in a plain dict, it
held one entry for every chat and user pair ever seen, so it grew for as long as the bot ran.
Every entry lives equally long, so the oldest entry is always the first to expire: one ordered
dict evicts from its front, both the expired and, past the bound, the oldest.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

ADMIN_TTL_S = 60.0  # a promotion or demotion shows within this long
ADMIN_MAX_PAIRS = 4096  # one entry is ~200 bytes: under a megabyte at the bound


class AdminCache:
    """(chat, user) -> is an admin, each answer kept `ttl_s` seconds, at most `max_pairs` kept."""

    def __init__(
        self,
        ttl_s: float = ADMIN_TTL_S,
        max_pairs: int = ADMIN_MAX_PAIRS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s, self._max_pairs, self._clock = ttl_s, max_pairs, clock
        self._answers: OrderedDict[tuple[int, int], tuple[float, bool]] = OrderedDict()

    def get(self, chat_id: int, user_id: int) -> bool | None:
        """The remembered answer, or None when there is none still fresh."""
        self._drop_expired()
        entry = self._answers.get((chat_id, user_id))
        return None if entry is None else entry[1]

    def put(self, chat_id: int, user_id: int, is_admin: bool) -> None:
        """Remember an answer; it goes to the back, so eviction order stays expiry order."""
        key = (chat_id, user_id)
        self._answers.pop(key, None)
        self._answers[key] = (self._clock() + self._ttl_s, is_admin)
        self._drop_expired()
        while len(self._answers) > self._max_pairs:
            self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)

    def _drop_expired(self) -> None:
        now = self._clock()
        while self._answers:
            expires, _ = next(iter(self._answers.values()))
            if expires > now:
                return
            self._answers.popitem(last=False)
