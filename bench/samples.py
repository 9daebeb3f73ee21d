"""What the speed benches share: real speech to time on, and a median of timed calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SR = 16_000
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def speech(clips: int = 4) -> np.ndarray:
    """A few RAVDESS clips end to end when the shared data is here, else a speech-like signal."""
    folder = SHARED_DATA / "ravdess" / "Actor_01"
    if folder.is_dir():
        import soundfile as sf

        paths = sorted(folder.glob("*.flac"))[:clips]
        return np.concatenate([sf.read(path, dtype="float32")[0] for path in paths])
    from tests.audio_factory import speechlike

    return speechlike(10.0)


def five_seconds(ravdess: Path) -> np.ndarray:
    """One strongly acted RAVDESS clip looped to exactly 5 s (a speech-like signal without it)."""
    clip = ravdess / "Actor_01" / "03-01-05-02-01-01-01.flac"
    if clip.is_file():
        import librosa

        y, _ = librosa.load(clip, sr=SR)
        return np.resize(y, 5 * SR).astype(np.float32)
    from tests.audio_factory import speechlike

    return speechlike(5.0, seed=0)


def median_s(call: Callable[[], object], runs: int) -> float:
    """Median wall seconds of `runs` calls, after one warm-up call (first-call allocations)."""
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
