"""The default model's figures, on speakers it never trained on: the numbers its card quotes.

    python bench/head.py --data ../shared/data [--cache-dir DIR] [--copies 2]

Embeds RAVDESS, the EmoDB copy and URDU once through the packaged Whisper-base encoder (cached,
so a rerun takes about a minute), then prints:
  1. RAVDESS, 5 folds of 4 held-out actors (training on the other 16 + EmoDB, augmented copies
     included): 8-class UAR, accuracy, closed 4-class accuracy, ECE, and how often an answer
     given with >= 80 % confidence is wrong; the same on voice-note copies of the test clips.
  2. The speaker baseline: UAR with 0, 3, 10 and 30 earlier (unlabelled) notes of the speaker.
  3. EmoDB copy, leave one speaker out, 7 classes (training on RAVDESS + the other 9).
  4. URDU zero-shot (a head trained on all of RAVDESS + EmoDB; 4 classes, closed set).
The compact CNN's figures on the same RAVDESS folds are not recomputed here (31 min a split):
its card has them. Not a test; timings are not asserted anywhere.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from data_augment.datasets import Clip, read_dataset
from data_augment.embeddings import EmbeddedClips, embed_clips
from data_augment.evaluate import FOUR_CLASSES
from data_augment.metrics import expected_calibration_error, restrict
from data_augment.whisper_head import (
    cross_validate,
    fit_heads,
    head_model,
    open_encoder,
    subset,
)
from inference.baseline import SpeakerBaseline
from inference.labels import CANONICAL_LABELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/voicemood"))
    parser.add_argument("--copies", type=int, default=2, help="augmented copies per training clip")
    parser.add_argument("--c", type=float, default=0.03, help="head's inverse L2 strength")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    encoder, cache = open_encoder(None, args.cache_dir)
    acted = read_dataset([f"ravdess:{args.data / 'ravdess'}", f"emodb:{args.data / 'emodb'}"])
    emb = embed_clips(acted, encoder, cache, copies=args.copies, seed=args.seed)
    urdu_clips = read_dataset(f"urdu:{args.data / 'urdu'}")
    urdu = embed_clips(urdu_clips, encoder, cache)
    cache.close()
    labels = tuple(label for label in CANONICAL_LABELS if label in {c.label for c in acted})
    print(
        f"embedded {len(emb.clips)} acted versions and {len(urdu.clips)} URDU clips "
        f"in {time.perf_counter() - started:.0f} s\n"
    )

    ravdess_folds = [
        (
            f"actors {4 * f + 1:02d}-{4 * f + 4:02d}",
            {f"ravdess:{a:02d}" for a in range(4 * f + 1, 4 * f + 5)},
        )
        for f in range(5)
    ]
    print("1. RAVDESS, held-out actors (5 folds), population head")
    print(_header())
    rows = []
    for name, test in ravdess_folds:
        probs, idx = cross_validate(emb, [(name, test)], labels, c=args.c, seed=args.seed)
        rows.append(_scores([emb.clips[i] for i in idx], probs, labels))
        print(_row(name, rows[-1]))
    print(_row("mean", np.mean(rows, axis=0)))
    noisy = [_voice_note_scores(emb, test, labels, args) for _, test in ravdess_folds]
    print(_row("voice-note copies", np.mean(noisy, axis=0)))

    print("\n2. Speaker baseline (RAVDESS folds; k earlier unlabelled notes of the same speaker)")
    print(f"{'notes':>8} {'UAR':>6} {'acc':>6} {'4-cls':>6} {'ECE':>6}")
    for k, scores in _baseline_curve(emb, ravdess_folds, labels, args).items():
        print(f"{k:>8} {scores[0]:6.3f} {scores[1]:6.3f} {scores[2]:6.3f} {scores[3]:6.3f}")

    print("\n3. EmoDB copy, leave one speaker out, 7 classes")
    emodb_speakers = sorted({c.speaker for c in emb.clips if c.corpus == "emodb"})
    folds = [(s, {s}) for s in emodb_speakers]
    probs, idx = cross_validate(emb, folds, labels, c=args.c, seed=args.seed)
    print(_header())
    print(_row("all folds", _scores([emb.clips[i] for i in idx], probs, labels)))

    print("\n4. URDU zero-shot (never trained on; spontaneous Urdu talk shows), 4 classes")
    fit = fit_heads(emb, labels, c=args.c, seed=args.seed, speaker_head=False)
    model = head_model(encoder, fit, "bench", {})
    u = model.classify(urdu.vectors)
    print(_header())
    print(_row("URDU", _scores(urdu.clips, u, labels)))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


def _scores(clips: list[Clip], probs: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """UAR, accuracy, closed 4-class accuracy, ECE, wrong share at >= 0.8, share at >= 0.8."""
    present = [label for label in labels if label in {c.label for c in clips}]
    p = restrict(probs, labels, present)
    truth = np.array([present.index(c.label) for c in clips])
    pred = p.argmax(axis=1)
    uar = np.mean([np.mean(pred[truth == k] == k) for k in np.unique(truth)])
    four = [i for i, c in enumerate(clips) if c.label in FOUR_CLASSES]
    keep = [label for label in FOUR_CLASSES if label in labels]
    p4 = restrict(probs[four], labels, keep)
    acc4 = np.mean(p4.argmax(axis=1) == np.array([keep.index(clips[i].label) for i in four]))
    confident = p.max(axis=1) >= 0.8
    wrong = np.mean(pred[confident] != truth[confident]) if confident.any() else 0.0
    ece = expected_calibration_error(p, truth)
    return np.array([uar, np.mean(pred == truth), acc4, ece, wrong, confident.mean()])


def _header() -> str:
    return (
        f"{'':>18} {'UAR':>6} {'acc':>6} {'4-cls':>6} {'ECE':>6} {'wrong@80%':>9} {'share@80%':>9}"
    )


def _row(name: str, s: np.ndarray) -> str:
    return f"{name:>18} {s[0]:6.3f} {s[1]:6.3f} {s[2]:6.3f} {s[3]:6.3f} {s[4]:9.3f} {s[5]:9.2f}"


def _voice_note_scores(emb: EmbeddedClips, test: set[str], labels, args) -> np.ndarray:
    """The fold's head scored on the augmented (Opus, noise, room) copies of its test clips."""
    speakers = np.array([c.speaker for c in emb.clips])
    held = np.isin(speakers, list(test))
    fit = fit_heads(
        subset(emb, np.flatnonzero(~held)),
        labels,
        c=args.c,
        seed=args.seed,
        speaker_head=False,
        calibrate_folds=3,
    )
    rows = np.flatnonzero(held & (emb.copy > 0))
    if not len(rows):
        rows = np.flatnonzero(held)
    t = fit.calibration.temperature if fit.calibration else 1.0
    logits = fit.heads.population.logits(emb.vectors[rows]) / t
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return _scores([emb.clips[i] for i in rows], e / e.sum(axis=1, keepdims=True), labels)


def _baseline_curve(emb, folds, labels, args) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(args.seed)
    speakers = np.array([c.speaker for c in emb.clips])
    results: dict[int, list[np.ndarray]] = {k: [] for k in (0, 3, 10, 30)}
    encoder_info = None
    for _, test in folds:
        held = np.isin(speakers, list(test))
        fit = fit_heads(
            subset(emb, np.flatnonzero(~held)), labels, c=args.c, seed=args.seed, calibrate_folds=3
        )
        model = head_model(_FakeEncoder(emb.vectors.shape[1]), fit, "bench", {})
        encoder_info = model.card.encoder
        rows = np.flatnonzero(held & (emb.copy == 0))
        for k in results:
            probs = []
            for i in rows:
                baseline = None
                if k:
                    others = [j for j in rows if speakers[j] == speakers[i] and j != i]
                    baseline = SpeakerBaseline.empty(emb.vectors.shape[1])
                    for j in rng.choice(others, size=min(k, len(others)), replace=False):
                        baseline = baseline.updated(emb.vectors[j])
                probs.append(model.classify(emb.vectors[i : i + 1], baseline)[0])
            results[k].append(_scores([emb.clips[i] for i in rows], np.array(probs), labels))
    assert encoder_info is not None
    return {k: np.mean(v, axis=0) for k, v in results.items()}


class _FakeEncoder:
    """Stands in for the encoder when the vectors are already embedded (classify only)."""

    def __init__(self, dim: int) -> None:
        from inference.encoder import PACKAGED_ENCODER, PACKAGED_SHA256, EncoderInfo

        self.info = EncoderInfo(PACKAGED_ENCODER, PACKAGED_SHA256, dim)


if __name__ == "__main__":
    main()
