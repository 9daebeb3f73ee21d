"""Speed of the default model (Whisper-base encoder + head) against the compact CNN, in one run.

    python bench/encoder.py [--runs 5] [--notes 40]

Per clip length: the median wall time of `predict` on one clip and the audio seconds handled per
wall second. Then the worker's throughput: a burst of `--notes` 5 s notes through the real
InferenceWorker (equal lengths batched), audio seconds per wall second, median of `--runs`
bursts. The last column is the Whisper head's figure over the compact model's, measured here.
Also the process's resident memory after loading each. Other processes slow both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time

import numpy as np
from samples import SR, median_s, speech

LENGTHS_S = (2.0, 5.0, 10.0, 30.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--notes", type=int, default=40)
    args = parser.parse_args()

    from inference.models import load_model

    rss0 = _rss_mib()
    head = load_model(None)
    rss_head = _rss_mib()
    compact = load_model("compact")
    rss_both = _rss_mib()
    print(
        f"models: {head.name} (process RSS {rss_head:.0f} MiB after loading, from {rss0:.0f}); "
        f"{compact.name} (+{rss_both - rss_head:.0f} MiB)"
    )
    print(f"runs per cell: {args.runs} (median)\n")
    source = speech(8)
    header = f"{'clip s':>6} | {'head ms':>8} | {'audio-s/s':>9} | {'compact ms':>10} | {'audio-s/s':>9} | {'head/compact':>12}"
    print(header)
    print("-" * len(header))
    for seconds in LENGTHS_S:
        clip = np.resize(source, int(seconds * SR)).astype(np.float32)
        h = median_s(lambda clip=clip: head.predict([clip]), args.runs)
        c = median_s(lambda clip=clip: compact.predict([clip]), args.runs)
        print(
            f"{seconds:>6.0f} | {h * 1000:>8.1f} | {seconds / h:>9.0f} | {c * 1000:>10.1f} | "
            f"{seconds / c:>9.0f} | {h / c:>11.2f}x",
            flush=True,
        )

    notes = [
        np.resize(np.roll(source, 3000 * i), 5 * SR).astype(np.float32) for i in range(args.notes)
    ]
    print(f"\nworker burst: {args.notes} notes of 5 s at once (max batch 4)")
    print(f"{'model':>22} | {'audio-s/s':>9}")
    for model in (head, compact):
        rates = [asyncio.run(_burst(model, notes)) for _ in range(args.runs)]
        print(f"{model.name:>22} | {statistics.median(rates):>9.0f}", flush=True)


async def _burst(model: object, notes: list[np.ndarray]) -> float:
    from inference.worker import InferenceWorker, WorkerConfig

    async with InferenceWorker(model, WorkerConfig(max_queue=len(notes), max_batch=4)) as worker:  # type: ignore[arg-type]
        await worker.predict(notes[0])  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(worker.predict(n) for n in notes))
        return len(notes) * 5.0 / (time.perf_counter() - started)


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
