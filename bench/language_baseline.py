"""How the bots' language statistics (VOICEMOOD_LANGUAGE_BASELINE) hear a language the head never
heard, as its notes arrive one by one.

    cd bench && python language_baseline.py --data ../../shared/data [--orders 20]

URDU (spontaneous Urdu talk shows, 400 clips of 29 speakers, never trained on) is read from the
embedding cache (bench/embed_all.py put it there; a clip not cached is embedded) and heard by the
bundled head, in `--orders` random orders, the way the bots hear one language's notes: each
note against the running statistics of the notes *before* it (bots.core.language_baseline), and
only once they hold `--min-notes` notes from `--min-people` different speakers; then it joins
them. "off": every note heard alone (the setting `off`); "on": as `new` (the default, for a
language the head never trained on, as Urdu) and `all` hear it. Printed: 4-class UAR of all notes
and of the notes at each stretch of the arrival order (mean over orders), off and on.
(`classify --same-language`, README, hears each note against all the others instead, 0.62 at
400.) The notes the statistics start from are the language's own; a deployment whose speakers'
language is mis-known (a /lang or app setting that is not the language spoken) was not measured.
Not a test; nothing is asserted.
Measured 2026-12-07 with the bundled head 2026.12.07, `--orders 40`, 4-class UAR (off -> on):
    from 20 notes of 5 speakers (the defaults)   all 0.505 -> 0.614; notes 21-100 0.604,
                                                 101-200 0.625, 201-400 0.627
and before, 2026-12-06, with the head 2026.12.06:
    from 20 notes of 5 speakers (the defaults)   all 0.512 -> 0.608; notes 21-100 0.597,
                                                 101-200 0.619, 201-400 0.619
    from 100 notes of 10 speakers                all 0.512 -> 0.592 (notes 1-100 as off)
    from the first note (1 of 1)                 all 0.512 -> 0.610; notes 1-20 0.544
So the defaults' wait costs little accuracy; it is there so no statistics are one voice's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]  # see bench/storage.py
sys.path.insert(0, str(_HERE.parent))

from data_augment.datasets import read_dataset  # noqa: E402
from data_augment.embeddings import EmbeddingCache, embed_clips  # noqa: E402
from data_augment.metrics import restrict  # noqa: E402
from inference.baseline import SpeakerBaseline  # noqa: E402
from inference.encoder import EncoderInfo  # noqa: E402
from inference.encoders import open_encoder  # noqa: E402
from inference.models import BUNDLED_DIR  # noqa: E402
from inference.models.whisper_head import WhisperHeadModel, read_head  # noqa: E402

FOUR = ["neutral", "happy", "sad", "angry"]
STRETCHES = ((0, 20), (20, 100), (100, 200), (200, 400))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/voicemood"))
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--min-notes", type=int, default=20)
    parser.add_argument("--min-people", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    card, heads = read_head(BUNDLED_DIR)
    cache_dir = args.cache_dir.expanduser()
    encoder = open_encoder(None, stages=card.encoder.stages, cache_dir=cache_dir)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite3")
    try:
        urdu = embed_clips(read_dataset(f"urdu:{args.data / 'urdu'}"), encoder, cache)
    finally:
        cache.close()
    model = WhisperHeadModel(_Embedded(card.encoder), heads, card)  # type: ignore[arg-type]
    labels = model.labels
    truth = np.array([FOUR.index(c.label) for c in urdu.clips])
    speakers = np.array([c.speaker for c in urdu.clips])
    seconds = urdu.seconds
    plain = restrict(model.classify(urdu.vectors, seconds=seconds), labels, FOUR).argmax(1)

    rng = np.random.default_rng(0)
    scores: dict[str, list[list[float]]] = {"off": [], "on": []}
    applied = []
    for _ in range(args.orders):
        order = rng.permutation(len(truth))
        heard = np.empty(len(truth), np.int64)
        stats = SpeakerBaseline.empty(urdu.vectors.shape[1])
        people: set[str] = set()
        for i in order:
            use = stats.count >= args.min_notes and len(people) >= args.min_people
            row = model.classify(
                urdu.vectors[i : i + 1],
                seconds=None if seconds is None else seconds[i : i + 1],
                language=stats if use else None,
            )
            heard[i] = restrict(row, labels, FOUR).argmax(1)[0]
            stats = stats.updated(urdu.vectors[i])
            people.add(speakers[i])
        applied.append(_first_applied(order, speakers, args.min_notes, args.min_people))
        for name, answers in (("off", plain), ("on", heard)):
            scores[name].append(_by_stretch(answers[order], truth[order]))

    print(
        f"URDU, {len(truth)} notes of {len(set(speakers))} speakers, {args.orders} arrival orders;"
        f" statistics applied from {args.min_notes} notes of {args.min_people} speakers"
        f" (reached at note {np.mean(applied):.1f} on average)"
    )
    names = ["all"] + [f"notes {a + 1}-{b}" for a, b in STRETCHES]
    print(f"{'4-class UAR':<12}" + "".join(f"{n:>14}" for n in names))
    for name, rows in scores.items():
        mean = np.mean(rows, axis=0)
        print(f"{name:<12}" + "".join(f"{v:>14.3f}" for v in mean))
    print(f"\n{time.perf_counter() - started:.0f} s")


def _by_stretch(answers: np.ndarray, truth: np.ndarray) -> list[float]:
    """UAR of all notes, then of each stretch of the arrival order."""
    return [_uar(answers, truth)] + [_uar(answers[a:b], truth[a:b]) for a, b in STRETCHES]


def _uar(answers: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([np.mean(answers[truth == k] == k) for k in np.unique(truth)]))


def _first_applied(order: np.ndarray, speakers: np.ndarray, notes: int, people: int) -> int:
    """The position (1-based) of the first note heard against the statistics."""
    seen: set[str] = set()
    for position, i in enumerate(order):
        if position >= notes and len(seen) >= people:
            return position + 1
        seen.add(speakers[i])
    return len(order) + 1


class _Embedded:
    """Stands in for the encoder: the vectors come from the cache (classify only)."""

    def __init__(self, info: EncoderInfo) -> None:
        self.info = info
        self.folder = Path(".")

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError("vectors are embedded already")


if __name__ == "__main__":
    main()
