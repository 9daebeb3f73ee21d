"""How late the event loop runs while the shared worker runs a slow forward pass.

    python bench/loop_lag.py [--forward-s 0.6] [--runs 5]

The worker runs each batch in its own thread, so the bots keep answering while a model works: a
ticker that sleeps 10 ms at a time should wake close to on time during the whole forward pass.
A loop blocked by the forward pass would lag by the whole forward time. (This bound used to be
a test; timings belong here, where a loaded machine cannot fail the suite.)
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence

import numpy as np

from inference.worker import InferenceWorker

LABELS = ("neutral", "happy", "sad", "angry")
_TICK_S = 0.01


class SlowModel:
    """A model whose forward pass blocks its thread for `seconds`, as a real one does."""

    name = "slow"
    labels = LABELS

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        time.sleep(self.seconds)
        return np.full((len(batch), len(LABELS)), 1 / len(LABELS))


async def one_run(forward_s: float) -> tuple[int, float]:
    """(ticks during one forward pass, the worst lag of a tick in seconds)."""
    lags: list[float] = []

    async def ticker() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(_TICK_S)
            lags.append(time.perf_counter() - before - _TICK_S)

    async with InferenceWorker(SlowModel(forward_s)) as worker:
        ticks = asyncio.create_task(ticker())
        await worker.predict(np.zeros(8000, dtype=np.float32))
        ticks.cancel()
    return len(lags), max(lags)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forward-s", type=float, default=0.6)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| run | ticks | worst lag (ms) | forward pass (ms) |")
    print("|---|---|---|---|")
    for run in range(1, args.runs + 1):
        ticks, worst = await one_run(args.forward_s)
        print(f"| {run} | {ticks} | {worst * 1000:.1f} | {args.forward_s * 1000:.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
