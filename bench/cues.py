"""What the voice cues cost, and where cues.TYPICAL's numbers come from.

    python bench/cues.py [--runs 7]        # ms added to a 5 s note, and the ratio to the analysis
    python bench/cues.py --typical          # typical cues of low and high voices (RAVDESS neutral)

Timing: one 5 s note (a RAVDESS clip, or a synthetic one when the data is absent) analysed by the
default model through the real InferenceWorker, without cues and with them, alternately in the
same run; the table shows the median of `--runs` of each. The cues run beside the worker (a
thread), so on an idle machine the added wall time can be below their own cost, also shown.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import time
from pathlib import Path

import numpy as np
from samples import SHARED_DATA, SR, five_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--typical", action="store_true")
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    args = parser.parse_args()
    if args.typical:
        typical(args.data / "ravdess")
    else:
        asyncio.run(timing(args.data / "ravdess", args.runs))


def typical(folder: Path) -> None:
    """Median cues of the neutral clips of actors 1-16 (17-20 are the tests' held-out actors)."""
    import librosa

    from inference.cues import CUE_NAMES, LOW_VOICE_HZ, measure

    groups: dict[str, list[dict[str, float | None]]] = {"low": [], "high": []}
    with open(folder / "metadata.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["emotion"] != "neutral" or int(row["speaker"]) > 16:
                continue
            y, _ = librosa.load(folder / row["path"], sr=SR)
            m = measure(y)
            if m.pitch_hz is None:
                continue
            group = "low" if m.pitch_hz < LOW_VOICE_HZ else "high"
            groups[group].append({name: getattr(m, name) for name in CUE_NAMES})
    print(f"{'group':6} {'clips':>5} " + " ".join(f"{n:>15}" for n in CUE_NAMES))
    for group, rows in groups.items():
        medians = [float(np.median([r[n] for r in rows if r[n] is not None])) for n in CUE_NAMES]
        print(f"{group:6} {len(rows):5d} " + " ".join(f"{v:15.3f}" for v in medians))


async def timing(folder: Path, runs: int) -> None:
    from inference.analysis import AnalysisConfig, Analyzer
    from inference.audio import Audio
    from inference.cues import cues_of
    from inference.models import load_model
    from inference.worker import InferenceWorker

    audio = Audio(five_seconds(folder))
    worker = InferenceWorker(load_model(None))
    await worker.start()
    try:
        with_cues = Analyzer(worker, AnalysisConfig(cues=True))
        without = Analyzer(worker, AnalysisConfig(cues=False))
        await with_cues.analyse_audio(audio)  # warm-up: model and librosa's first calls
        plain, full, alone = [], [], []
        for _ in range(runs):
            start = time.perf_counter()
            await without.analyse_audio(audio)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            await with_cues.analyse_audio(audio)
            full.append(time.perf_counter() - start)
            start = time.perf_counter()
            cues_of(audio.samples)
            alone.append(time.perf_counter() - start)
    finally:
        await worker.close()
    p, w, a = (statistics.median(x) * 1000 for x in (plain, full, alone))
    print("| 5 s note | without cues ms | with cues ms | added ms | with/without | cues alone ms |")
    print("|---|---|---|---|---|---|")
    print(f"| median of {runs} | {p:.1f} | {w:.1f} | {w - p:.1f} | {w / p:.3f} | {a:.1f} |")


if __name__ == "__main__":
    main()
