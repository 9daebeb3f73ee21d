"""Is "voice steadiness" reliable enough to tell people? (It is not shown as a cue: see below.)

    python bench/steadiness.py [--data ../shared/data]

Issue 14 asks for voice steadiness "where reliable". A shaky voice is what listeners hear in fear
and sadness, so a steadiness cue is worth showing only if, on real recordings, it rises for
fearful and sad speech against the same actor's neutral speech for most actors (>= 80%), and rises
for them more often than for confident, aroused tones (angry, happy): otherwise "shakier" would
only repeat what loudness and pitch range already say, and call an angry voice shaky. Also shown:
whether a measure gives the same answer twice for the same thing said the same way (RAVDESS
records every take twice): the correlation of repetition 1 with repetition 2, after removing each
actor's own mean, so that a voice's identity cannot make it look repeatable.

Measures tried, on every RAVDESS clip of actors 1-20, beside two cues VoiceMood shows:
- pitch wobble: the median distance, in semitones, of each voiced 10 ms frame's F0 (librosa yin,
  as inference/cues.py tracks it) from the mean of its two neighbours;
- loudness wobble: the same on the frame level in dB;
- Praat's jitter (local) and shimmer (local), the clinical measures of voice steadiness, when
  `praat-parselmouth` is installed (`pip install praat-parselmouth`; not a VoiceMood dependency).

Measured on 2026-11-30 (share of actors up for fearful / sad / angry, repetition r):
pitch wobble 0.75 / 0.75 / 0.70, r 0.35; loudness wobble 0.85 / 0.70 / 0.75, r 0.49;
jitter 0.60 / 0.65 / 0.65, r 0.44; shimmer 0.65 / 0.55 / 0.75, r 0.51; against loudness, shown,
1.00 / 0.50 / 1.00, r 0.93. None passes: every candidate rises about as often for angry and
surprised speech as for fearful and sad, so it marks arousal, not shakiness. Jitter and shimmer are
defined on sustained vowels; in read sentences they follow intonation and consonants. So VoiceMood
does not describe steadiness, rather than tell people something it cannot hear reliably.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from samples import SHARED_DATA, SR

# The tones a shaky voice should mark, the confident aroused tones it must mark less often, and
# the share of actors it must rise for.
SHAKY_TONES = ("fearful", "sad")
STEADY_TONES = ("angry", "happy")
MIN_ACTORS_UP = 0.8

Clip = tuple[str, str, str, str, str]  # actor, emotion, statement, intensity, repetition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    args = parser.parse_args()
    folder = args.data / "ravdess"
    if not (folder / "metadata.csv").is_file():
        raise SystemExit(f"needs RAVDESS at {folder} (see ../shared/data/README)")
    measures = _measures()
    values: dict[str, dict[Clip, float]] = {name: {} for name in measures}
    import soundfile as sf

    with open(folder / "metadata.csv", newline="") as f:
        for row in csv.DictReader(f):
            y, sr = sf.read(folder / row["path"], dtype="float32")
            assert sr == SR, (row["path"], sr)
            key = (row["speaker"], row["emotion"], row["statement"], row["intensity"])
            clip: Clip = (*key, row["repetition"])
            for name, measure in measures.items():
                value = measure(y)
                if value is not None and np.isfinite(value):
                    values[name][clip] = value
    tones = sorted({clip[1] for clip in next(iter(values.values()))} - {"neutral"})
    print(f"{'measure':16} " + " ".join(f"{t:>10}" for t in tones) + f" {'retest r':>9}  shown?")
    for name, by_clip in values.items():
        ups = {tone: _actors_up(by_clip, tone) for tone in tones}
        retest = _retest(by_clip)
        shaky = min(ups[t] for t in SHAKY_TONES)
        reliable = shaky >= MIN_ACTORS_UP and shaky > max(ups[t] for t in STEADY_TONES)
        verdict = "(shown)" if name.startswith("(") else ("yes" if reliable else "no")
        cells = " ".join(f"{ups[t]:10.2f}" for t in tones)
        print(f"{name:16} {cells} {retest:9.2f}  {verdict}")
    print(
        "\ncells: share of actors whose median for that tone is above their neutral median;\n"
        f"a steadiness measure passes if that is >= {MIN_ACTORS_UP} for "
        f"{' and '.join(SHAKY_TONES)} and higher than for {' and '.join(STEADY_TONES)};\n"
        "retest r: repetition 1 against 2 of the same take, each centred on its actor's mean."
    )


def _measures() -> dict[str, Callable[[np.ndarray], float | None]]:
    from inference.cues import measure

    measures: dict[str, Callable[[np.ndarray], float | None]] = {
        # Two cues VoiceMood does show, for comparison.
        "(pitch range)": lambda y: measure(y).pitch_range_st,
        "(loudness)": lambda y: measure(y).loudness_db,
        "pitch wobble": lambda y: _wobble(y)[0],
        "loudness wobble": lambda y: _wobble(y)[1],
    }
    try:
        import parselmouth  # noqa: F401
    except ImportError:
        print("(praat-parselmouth is not installed: jitter and shimmer are left out)\n")
    else:
        measures["praat jitter"] = lambda y: _praat(y, "jitter")
        measures["praat shimmer"] = lambda y: _praat(y, "shimmer")
    return measures


def _wobble(y: np.ndarray) -> tuple[float | None, float | None]:
    """Frame-to-frame wobble of F0 (semitones) and level (dB), on the frames cues.py calls voiced."""
    import librosa
    from scipy.signal import resample_poly

    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=160)[0]
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=400, hop_length=160)[0]
    f0 = librosa.yin(resample_poly(y, 1, 2), fmin=60, fmax=500, sr=SR // 2, hop_length=80)
    n = min(len(rms), len(zcr), len(f0))
    rms, zcr, f0 = rms[:n], zcr[:n], f0[:n]
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    voiced = (db > db.max() - 30) & (zcr < 0.25) & (f0 > 63) & (f0 < 475)
    triple = voiced[1:-1] & voiced[:-2] & voiced[2:]
    if triple.sum() < 20:
        return None, None
    st = 12 * np.log2(np.maximum(f0, 1.0))
    pitch = np.abs(st[1:-1] - (st[:-2] + st[2:]) / 2)[triple]
    level = np.abs(db[1:-1] - (db[:-2] + db[2:]) / 2)[triple]
    pitch = pitch[pitch < 2.0]  # octave jumps are tracking errors, not wobble
    return float(np.median(pitch)), float(np.median(level))


def _praat(y: np.ndarray, which: str) -> float | None:
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(y.astype(np.float64), SR)
    points = call(sound, "To PointProcess (periodic, cc)", 75, 500)
    if which == "jitter":
        value = call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
    else:
        value = call([sound, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
    return float(value)


def _actors_up(by_clip: dict[Clip, float], tone: str) -> float:
    """Share of actors whose median for `tone` is above their own neutral median."""
    per_actor: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (actor, emotion, *_), value in by_clip.items():
        per_actor[actor][emotion].append(value)
    ups = [
        np.median(tones[tone]) > np.median(tones["neutral"])
        for tones in per_actor.values()
        if tones.get(tone) and tones.get("neutral")
    ]
    return float(np.mean(ups)) if ups else float("nan")


def _retest(by_clip: dict[Clip, float]) -> float:
    """Correlation of repetition 1 with 2 of the same take, each centred on its actor's mean."""
    actor_mean = {
        actor: float(np.mean([v for c, v in by_clip.items() if c[0] == actor]))
        for actor in {c[0] for c in by_clip}
    }
    first, second = [], []
    for clip, value in by_clip.items():
        if clip[4] != "01":
            continue
        again = by_clip.get((*clip[:4], "02"))
        if again is not None:
            first.append(value - actor_mean[clip[0]])
            second.append(again - actor_mean[clip[0]])
    return float(np.corrcoef(first, second)[0, 1])


if __name__ == "__main__":
    main()
