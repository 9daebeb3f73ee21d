"""Where bots/core/practice_hints.py's PROFILES come from: how each practice tone's voice cues move
away from the same actor's neutral voice.

    python bench/practice_profiles.py            # RAVDESS actors 1-16 (17-20 are the tests')

For every actor, the median of each cue over their neutral clips is their "usual" voice; every
other clip of the practice tones is read against it (pitch in semitones, speech rate as a
relative change, range in semitones, loudness in dB, pause share in points: practice_hints.cue_move), and the table prints
the median move per tone over all clips, with the clip count. Both intensities are used.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections import defaultdict
from pathlib import Path

from samples import SHARED_DATA, SR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--actors", type=int, default=16, help="actors 1..N are measured")
    args = parser.parse_args()
    profiles(args.data / "ravdess", args.actors)


def profiles(folder: Path, actors: int) -> None:
    import librosa

    from bots.core.practice_hints import PRACTICE_TONES as TONES
    from bots.core.practice_hints import cue_move
    from inference.cues import CUE_NAMES, measure

    measured: dict[str, list[tuple[str, dict[str, float | None]]]] = defaultdict(list)
    with open(folder / "metadata.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["emotion"] not in TONES or int(row["speaker"]) > actors:
                continue
            y, _ = librosa.load(folder / row["path"], sr=SR)
            m = measure(y)
            cues = {name: getattr(m, name) for name in CUE_NAMES}
            measured[row["speaker"]].append((row["emotion"], cues))

    moves: dict[str, dict[str, list[float]]] = {t: defaultdict(list) for t in TONES}
    for clips in measured.values():
        usual = {
            name: _median([c[name] for tone, c in clips if tone == "neutral"]) for name in CUE_NAMES
        }
        for tone, cues in clips:
            for name in CUE_NAMES:
                move = cue_move(name, cues[name], usual[name])
                if move is not None:
                    moves[tone][name].append(move)

    print(f"RAVDESS actors 1-{actors}: median move of each cue from the same actor's neutral")
    print(f"| {'tone':9} | clips | " + " | ".join(f"{n:>14}" for n in CUE_NAMES) + " |")
    print("|---|---|" + "---|" * len(CUE_NAMES))
    for tone in TONES:
        count = max((len(v) for v in moves[tone].values()), default=0)
        cells = [
            f"{statistics.median(moves[tone][n]):14.3f}" if moves[tone][n] else f"{'-':>14}"
            for n in CUE_NAMES
        ]
        print(f"| {tone:9} | {count:5d} | " + " | ".join(cells) + " |")


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


if __name__ == "__main__":
    main()
