"""The handlers running right now, so that stopping lets them finish their answer first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any


class InFlight:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    @contextlib.contextmanager
    def tracked(self) -> Iterator[None]:
        """Count the running handler as in flight, so drain() lets it finish."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def drain(self, timeout_s: float) -> None:
        """Wait (up to `timeout_s`) for the notes, presses and commands being answered now."""
        pending = {task for task in self._tasks if task is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
