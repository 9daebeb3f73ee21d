"""Do copies of the training actors at another speed or pitch (new pseudo-speakers) help the head?

    python bench/speaker_augment.py --data ../shared/data

The head generalises to new speakers from only 16 actors a fold. Speed perturbation (pitch and
tempo together, the usual trick for speaker embeddings) and pitch shifts make each training actor
sound like a few more. This embeds every RAVDESS clip of actors 1-20 with the default encoder
(all seven stages, no speech cut), plus copies at 0.9x and 1.1x speed (resampled) and shifted
by -2 and +2 semitones (librosa), then scores a plain linear head (standardise + class-balanced
logistic regression) on 5 folds of 4 held-out actors, always on the held-out actors' original
clips. "C / copies" keeps the penalty per row as it was without the copies.

Measured 2026-12-07 (2 cores shared with other work; 11 minutes to embed, 15 to fit):

    training rows                        C 0.01  C 0.03  C 0.01 / copies  C 0.03 / copies
    original clips                       0.758   0.753
    + 0.9x and 1.1x speed                0.759   0.755   0.758            0.759
    + -2 and +2 semitones                0.750   0.746   0.745            0.750

No gain: the copies do not reach what new speakers would bring.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
from samples import SHARED_DATA, SR

# name: (speed as resampling up / down, semitones)
_VERSIONS = {
    "original clips": ((1, 1), 0),
    "0.9x speed": ((10, 9), 0),
    "1.1x speed": ((10, 11), 0),
    "-2 semitones": ((1, 1), -2),
    "+2 semitones": ((1, 1), 2),
}
_SETS = {
    "original clips": [],
    "+ 0.9x and 1.1x speed": ["0.9x speed", "1.1x speed"],
    "+ -2 and +2 semitones": ["-2 semitones", "+2 semitones"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/voicemood"))
    args = parser.parse_args()
    folder = args.data / "ravdess"
    if not (folder / "metadata.csv").is_file():
        sys.exit(f"RAVDESS is not at {folder}: pass --data with the shared data folder")
    vectors, speakers, labels = embed(folder, args.cache_dir.expanduser())
    print(f"{'training rows':28} {'C':>6} {'C / copies':>11} {'UAR (5 folds)':>14}")
    for name, extra in _SETS.items():
        for c in (0.01, 0.03):
            for per_row in (False, True) if extra else (False,):
                uar = score(
                    vectors, speakers, labels, extra, c / (1 + len(extra)) if per_row else c
                )
                print(f"{name:28} {c:6g} {'yes' if per_row else 'no':>11} {uar:14.3f}", flush=True)


def embed(folder: Path, cache_dir: Path) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Every clip of actors 1-20 in each version, pooled by the default encoder."""
    import librosa
    import soundfile as sf
    from scipy.signal import resample_poly

    from inference.encoder_stages import WhisperStagesEncoder

    encoder = WhisperStagesEncoder(cache_dir=cache_dir, threads=2)
    with open(folder / "metadata.csv", newline="") as table:
        rows = [r for r in csv.DictReader(table) if int(r["speaker"]) <= 20]
    out: dict[str, list[np.ndarray]] = {name: [] for name in _VERSIONS}
    started = time.perf_counter()
    for i, row in enumerate(rows):
        wave, rate = sf.read(folder / row["path"], dtype="float32")
        wave = wave.mean(axis=1) if wave.ndim > 1 else wave
        if rate != SR:
            wave = librosa.resample(wave, orig_sr=rate, target_sr=SR)
        for name, ((up, down), semitones) in _VERSIONS.items():
            version = resample_poly(wave, up, down) if up != down else wave
            if semitones:
                version = librosa.effects.pitch_shift(version, sr=SR, n_steps=semitones)
            out[name].append(encoder.embed([np.asarray(version, np.float32)])[0])
        if i % 200 == 0:
            print(f"embedded {i} of {len(rows)} clips, {time.perf_counter() - started:.0f} s")
    speakers = np.array([int(r["speaker"]) for r in rows])
    labels = np.array([r["emotion"] for r in rows])
    return {name: np.stack(v) for name, v in out.items()}, speakers, labels


def score(
    vectors: dict[str, np.ndarray],
    speakers: np.ndarray,
    labels: np.ndarray,
    extra: list[str],
    c: float,
) -> float:
    """UAR on 5 folds of 4 held-out actors' original clips, training on the rest's versions."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import recall_score
    from threadpoolctl import threadpool_limits

    original = vectors["original clips"]
    predicted = np.empty(len(labels), dtype=labels.dtype)
    for fold in range(5):
        held = (speakers > 4 * fold) & (speakers <= 4 * fold + 4)
        x = np.concatenate([original[~held]] + [vectors[name][~held] for name in extra])
        y = np.concatenate([labels[~held]] * (1 + len(extra)))
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
        head = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        with threadpool_limits(limits=1):
            head.fit((x - mean) / std, y)
        predicted[held] = head.predict((original[held] - mean) / std)
    return float(recall_score(labels, predicted, average="macro"))


if __name__ == "__main__":
    main()
