"""Admitting uploads by the bytes they hold and the wait ahead of them, not by their number.

Counting uploads (8 in flight) told a burst of 60 small voice notes "busy" after 8, while the
same burst through Telegram waits in the worker's queue and is all answered in seconds. What an
upload really costs is its bytes held in memory until it is answered, and its wait; so a burst is
admitted while both stay under their bounds, and whatever is refused is told when to come back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from inference.errors import Busy

# How fast the measured answer rate follows a change: 0.2 weighs about the last five answers.
_SMOOTHING = 0.2
# Retry-After before anything was measured: a guess, long enough for a small burst to drain.
_FIRST_GUESS_S = 5


class GateBusy(Busy):
    """Refused at the gate; `retry_after_s` is when the page expects room again."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class Admission:
    """One admitted upload's share of the gate, given back by `UploadGate.done`."""

    size: int
    started: float


class UploadGate:
    """Bytes in flight under `max_bytes`, and the expected wait under `max_wait_s`.

    The wait is the uploads in flight times the measured seconds between answers while others
    waited (the service's throughput, whatever bounds it: decoding, the worker, the disk).
    """

    def __init__(
        self, max_bytes: int, max_wait_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self.max_wait_s = max_wait_s
        self.bytes_in_flight = 0
        self.in_flight = 0
        self.seconds_per_answer: float | None = None
        self._clock = clock
        self._last_answer: float | None = None

    def expected_wait_s(self) -> float:
        """How long a newly admitted upload would wait for the ones ahead of it."""
        return self.in_flight * (self.seconds_per_answer or 0.0)

    def admit(self, size: int) -> Admission:
        """Take `size` bytes of the budget, or raise GateBusy with a Retry-After."""
        wait = self.expected_wait_s()
        if wait > self.max_wait_s:
            raise GateBusy(
                "Too many recordings are waiting.", retry_after_s=_seconds(wait - self.max_wait_s)
            )
        # One upload alone is always admitted: its size was checked against the file limit.
        if self.in_flight and self.bytes_in_flight + size > self.max_bytes:
            raise GateBusy("Too many recordings at once.", retry_after_s=self._drain_s())
        self.in_flight += 1
        self.bytes_in_flight += size
        return Admission(size, self._clock())

    def done(self, admission: Admission) -> None:
        """Give back an upload's bytes; an answer given while others waited measures the rate."""
        now = self._clock()
        if self.in_flight > 1 and self._last_answer is not None:
            gap = min(now - self._last_answer, now - admission.started)
            previous = self.seconds_per_answer
            self.seconds_per_answer = (
                gap if previous is None else (1 - _SMOOTHING) * previous + _SMOOTHING * gap
            )
        self._last_answer = now
        self.in_flight -= 1
        self.bytes_in_flight -= admission.size

    def _drain_s(self) -> int:
        if self.seconds_per_answer is None:
            return _FIRST_GUESS_S
        return _seconds(self.expected_wait_s())


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))
