"""How much speech the speech detector (inference/speech.py) finds, in speech and in what is not.

    PYTHONPATH=. python bench/speech.py [--runs 7] [--each 10] [--nemo 0] [--min-speech 1.0]
        [--answers] [--answers-nemo 300]

Prints two tables:

- the detector's cost per note (5 s and 60 s of held-out RAVDESS speech joined end to end, or
  generated sound without the data), milliseconds, median of `--runs` runs after a warm-up, and
  what loading the model costs once per process;
- per set of clips: how many, the share found to hold no speech at all (answered "no speech"),
  the share with less than `--min-speech` seconds of it (answered "too little speech"), and the
  median seconds of speech found. Sets: RAVDESS actors 17-20 (held out from the default head's
  training), Korean, Urdu talk shows and nEMO (Polish; `--nemo N` takes N clips at random, 0 all)
  from ../shared/data where present; the held-out RAVDESS clips mixed at 0 dB SNR with pink noise,
  music-like tones and babble (four other held-out clips at once); `--each` generated clips of
  every sound in tests/audio_factory.NOT_SPEECH (4 s each); and espeak-ng's voice (the tests'
  synthetic speech), when espeak-ng is installed.

With `--answers`, a third table: what pooling over speech only does to the default model's
answers, through the real Analyzer with the speech gate off and with it on and
`pool_speech_only` (the gate's refusals left out of both), per corpus: accuracy and UAR over that corpus's own classes (the answer is the likeliest
of them) and how often the two answers agree. The bundled head was trained on whole clips of every
RAVDESS actor, so its RAVDESS row is not held out; Urdu, Korean and nEMO it never heard.

The target (issue 24): none of the non-speech answered with a tone, no held-out speech refused.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.speech import SAMPLE_RATE, find_speech  # noqa: E402
from tests.audio_factory import NOT_SPEECH  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
HELD_OUT = ("17", "18", "19", "20")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--each", type=int, default=10, help="generated clips per kind of sound")
    parser.add_argument("--nemo", type=int, default=0, help="nEMO clips at random; 0: all")
    parser.add_argument("--min-speech", type=float, default=1.0)
    parser.add_argument("--answers", action="store_true", help="the model's answers, gate off/on")
    parser.add_argument("--answers-nemo", type=int, default=300)
    args = parser.parse_args()

    ravdess = list(_corpus("ravdess", lambda row: row["speaker"] in HELD_OUT))
    _cost(ravdess, args.runs)

    sets: list[tuple[str, Iterable[np.ndarray]]] = []
    if ravdess:
        sets.append(("RAVDESS actors 17-20", ravdess))
    for name, folder in (("Korean", "korean"), ("Urdu (talk shows)", "urdu")):
        sets.append((name, _corpus(folder)))
    sets.append(("nEMO (Polish)", _corpus("nemo", sample=args.nemo)))
    if ravdess:
        babble = _babble(ravdess)
        for name, noise in (
            ("pink noise", lambda n, i: NOT_SPEECH["pink noise"](n / SAMPLE_RATE, seed=i)),
            ("music-like", lambda n, i: NOT_SPEECH["music-like"](n / SAMPLE_RATE, seed=i)),
            ("babble (4 voices)", babble),
        ):
            sets.append((f"RAVDESS 17-20 + {name}, 0 dB", _mixed(ravdess, noise)))
    for name, make in NOT_SPEECH.items():
        sets.append((name, (make(4.0, seed=seed) for seed in range(args.each))))
    if espeak := _espeak_clips():
        sets.append(("espeak-ng voice (tests' speech)", espeak))

    print(f"\nspeech found (refused: no speech at all; < {args.min_speech:g} s: too little speech)")
    print(f"{'set':42} {'clips':>6} {'refused':>8} {'< min':>7} {'median s':>9} {'of note':>8}")
    for name, clips in sets:
        found, shares = [], []
        for clip in clips:
            seconds = find_speech(clip).seconds
            found.append(seconds)
            shares.append(seconds / (len(clip) / SAMPLE_RATE))
        if not found:
            print(f"{name:42} {'absent':>6}")
            continue
        refused = np.mean([s == 0 for s in found])
        short = np.mean([s < args.min_speech for s in found])
        print(
            f"{name:42} {len(found):6d} {refused:8.1%} {short:7.1%} "
            f"{statistics.median(found):9.2f} {statistics.median(shares):8.0%}"
        )
    if args.answers:
        asyncio.run(_answers(args.answers_nemo, args.min_speech))


async def _answers(nemo: int, min_speech_s: float) -> None:
    from inference.analysis import AnalysisConfig, Analyzer
    from inference.audio import Audio
    from inference.errors import AudioError
    from inference.labels import to_canonical
    from inference.models import load_model
    from inference.worker import InferenceWorker

    print("\nthe default model's answers, whole clips against speech only (refused ones left out)")
    print(
        f"{'corpus':22} {'clips':>6} {'refused':>8} {'acc off':>8} {'acc on':>7} "
        f"{'UAR off':>8} {'UAR on':>7} {'agree':>6}"
    )
    corpora = [
        ("RAVDESS 17-20 (seen)", "ravdess", lambda row: row["speaker"] in HELD_OUT, 0),
        ("Urdu", "urdu", lambda row: True, 0),
        ("Korean", "korean", lambda row: True, 0),
        ("nEMO", "nemo", lambda row: True, nemo),
    ]
    async with InferenceWorker(load_model(None)) as worker:
        whole = Analyzer(worker, AnalysisConfig(cues=False, speech_gate=False))
        config = AnalysisConfig(cues=False, min_speech_s=min_speech_s, pool_speech_only=True)
        speech = Analyzer(worker, config)
        for name, folder, keep, sample in corpora:
            rows = _rows(folder, keep, sample)
            if not rows:
                continue
            truth, off, on, refused = [], [], [], 0
            for row, clip in zip(rows, _corpus(folder, keep, sample), strict=True):
                label = to_canonical(row["emotion"])
                try:
                    heard = await speech.analyse_audio(Audio(clip))
                except AudioError:
                    refused += 1
                    continue
                truth.append(label)
                on.append(heard.probabilities)
                off.append((await whole.analyse_audio(Audio(clip))).probabilities)
            classes = sorted(set(truth))
            off_labels = [max(classes, key=p.get) for p in off]
            on_labels = [max(classes, key=p.get) for p in on]
            agree = np.mean([a == b for a, b in zip(off_labels, on_labels, strict=True)])
            print(
                f"{name:22} {len(rows):6d} {refused:8d} {_accuracy(truth, off_labels):8.3f} "
                f"{_accuracy(truth, on_labels):7.3f} {_uar(truth, off_labels):8.3f} "
                f"{_uar(truth, on_labels):7.3f} {agree:6.1%}"
            )


def _accuracy(truth: list[str], guess: list[str]) -> float:
    return float(np.mean([t == g for t, g in zip(truth, guess, strict=True)]))


def _uar(truth: list[str], guess: list[str]) -> float:
    recalls = []
    for label in sorted(set(truth)):
        hits = [g == label for t, g in zip(truth, guess, strict=True) if t == label]
        recalls.append(np.mean(hits))
    return float(np.mean(recalls))


def _cost(ravdess: list[np.ndarray], runs: int) -> None:
    started = time.perf_counter()
    find_speech(np.zeros(SAMPLE_RATE, np.float32))
    load_ms = (time.perf_counter() - started) * 1000
    source = np.concatenate(ravdess) if ravdess else NOT_SPEECH["music-like"](60.0)
    kind = "RAVDESS speech" if ravdess else "music-like tones"
    print(f"detector cost per note ({kind}, one thread; first call {load_ms:.0f} ms, the load)")
    print(f"{'note':>6} {'median ms':>10} {'ms per s':>9}")
    for seconds in (5, 60):
        note = np.resize(source, seconds * SAMPLE_RATE)
        times = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            find_speech(note)
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times[1:])
        print(f"{seconds:5d}s {median:10.1f} {median / seconds:9.2f}")


def _rows(
    folder: str, keep: Callable[[dict[str, str]], bool] = lambda row: True, sample: int = 0
) -> list[dict[str, str]]:
    metadata = SHARED_DATA / folder / "metadata.csv"
    if not metadata.is_file():
        return []
    with metadata.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if keep(row)]
    if sample and sample < len(rows):
        picked = np.random.default_rng(0).choice(len(rows), sample, replace=False)
        rows = [rows[i] for i in sorted(picked)]
    return rows


def _corpus(
    folder: str, keep: Callable[[dict[str, str]], bool] = lambda row: True, sample: int = 0
) -> Iterable[np.ndarray]:
    for row in _rows(folder, keep, sample):
        samples, sr = sf.read(SHARED_DATA / folder / row["path"], dtype="float32", always_2d=True)
        if sr != SAMPLE_RATE:
            raise SystemExit(f"{folder}/{row['path']} is {sr} Hz; the shared data is 16 kHz")
        yield samples.mean(axis=1)


def _mixed(
    clips: list[np.ndarray], noise: Callable[[int, int], np.ndarray], snr_db: float = 0.0
) -> Iterable[np.ndarray]:
    for i, clip in enumerate(clips):
        added = np.resize(noise(len(clip), i), len(clip))
        gain = np.sqrt(np.mean(clip**2) / np.mean(added**2) / 10 ** (snr_db / 10))
        mix = clip + gain * added
        yield (mix / max(1.0, float(np.abs(mix).max()))).astype(np.float32)


def _babble(clips: list[np.ndarray]) -> Callable[[int, int], np.ndarray]:
    def babble(n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.zeros(n)
        for k in rng.choice(len(clips), 4, replace=False):
            out += np.roll(np.resize(clips[k], n), int(rng.integers(0, n)))
        return out

    return babble


def _espeak_clips() -> list[np.ndarray]:
    from tests.audio_factory import spoken

    try:
        return [spoken(seconds, seed=seed) for seed, seconds in enumerate((2, 4, 8, 15, 30))]
    except FileNotFoundError:
        return []


if __name__ == "__main__":
    main()
