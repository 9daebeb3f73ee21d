"""Retraining from donated notes, proven on a language the head never heard: EmoDB as feedback.

    python bench/retrain.py --data ../shared/data [--cache-dir DIR] [--choices 5]

A head trained on RAVDESS only (English) is the model a bot starts with. Three EmoDB (German)
speakers' clips are written as the manifest `voicemood export-feedback` would write, and
`data_augment.retrain.retrain` runs on it exactly as `voicemood retrain` does (guard set RAVDESS
17-20, feedback weight 3, augmented copies, the run folder written). Both heads are then scored
on the other 7 EmoDB speakers' clean clips: closed set over the labels the RAVDESS head knows
(neutral, happy, sad, angry, fearful, disgust), and over all 7 EmoDB labels (the RAVDESS head
never says "bored"). Repeated for several choices of the 3 donors; the median row is the figure.
Embeddings come from the cache (`--cache-dir`), so only fitting is timed. Not a test.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from data_augment.datasets import Clip, read_emodb, read_manifest, read_ravdess, write_manifest
from data_augment.embeddings import EmbeddedClips, embed_clips
from data_augment.evaluate import score
from data_augment.retrain import RetrainConfig, retrain
from data_augment.whisper_head import fit_heads, open_encoder
from inference.labels import CANONICAL_LABELS
from inference.probability import softmax


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/voicemood"))
    parser.add_argument("--choices", type=int, default=5, help="donor triples tried")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--feedback-weight", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ravdess = read_ravdess(args.data / "ravdess")
    emodb = read_emodb(args.data / "emodb")
    encoder, cache = open_encoder(None, args.cache_dir)
    acted = embed_clips(ravdess, encoder, cache, copies=args.copies, seed=args.seed)
    emodb_e = embed_clips(emodb, encoder, cache)
    cache.close()
    base_labels = _labels(ravdess)
    known = [label for label in base_labels if label in {c.label for c in emodb}]
    base = fit_heads(acted, base_labels, speaker_head=False, calibrate_folds=0, seed=args.seed)

    speakers = sorted({c.speaker for c in emodb})
    rng = np.random.default_rng(args.seed)
    triples = []
    while len(triples) < args.choices:
        triple = tuple(sorted(rng.choice(speakers, size=3, replace=False)))
        if triple not in triples:
            triples.append(triple)

    print(
        f"EmoDB as donated notes: RAVDESS-only head, 3 donors, scored on the other 7 speakers "
        f"(UAR; known = closed set over {', '.join(known)}; all = 7 EmoDB labels)\n"
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
    )
    header = (
        f"{'donors':<24} {'known base':>10} {'retrained':>9} {'rise':>6} "
        f"{'all base':>8} {'retrained':>9} {'rise':>6} {'guard old/new':>13} {'retrain s':>9}"
    )
    print(header)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, triple in enumerate(triples):
            manifest = Path(tmp) / f"feedback{n}" / "manifest.csv"
            write_manifest([c for c in emodb if c.speaker in triple], manifest)
            config = RetrainConfig(
                feedback_weight=args.feedback_weight,
                copies=args.copies,
                cache_dir=args.cache_dir,
                seed=args.seed,
                version="bench",
            )
            started = time.perf_counter()
            result = retrain(ravdess, read_manifest(manifest), config, Path(tmp) / f"run{n}")
            seconds = time.perf_counter() - started
            report = result.report
            assert result.model is not None, report.reason
            held = _rows(emodb_e, lambda c, t=triple: c.speaker not in t)
            labels = _labels([*ravdess, *emodb])
            base_probs = _align(
                softmax(base.heads.population.logits(held.vectors)), base_labels, labels
            )
            new_probs = _align(result.model.classify(held.vectors), result.model.labels, labels)
            k0 = score(held.clips, base_probs, labels, classes=known).overall.uar
            k1 = score(held.clips, new_probs, labels, classes=known).overall.uar
            a0 = score(held.clips, base_probs, labels).overall.uar
            a1 = score(held.clips, new_probs, labels).overall.uar
            assert report.guard.old is not None and report.guard.new is not None
            g0, g1 = report.guard.old.overall.uar, report.guard.new.overall.uar
            rows.append((k0, k1, k1 - k0, a0, a1, a1 - a0, g0, g1, seconds))
            print(_line(" ".join(s.split(":")[1] for s in triple), rows[-1]))
    print(_line("median", tuple(np.median(rows, axis=0))))


def _labels(clips: list[Clip]) -> tuple[str, ...]:
    return tuple(label for label in CANONICAL_LABELS if label in {c.label for c in clips})


def _rows(embedded: EmbeddedClips, keep: Callable[[Clip], bool]) -> EmbeddedClips:
    return embedded.take([i for i, clip in enumerate(embedded.clips) if keep(clip)])


def _align(probs: np.ndarray, labels: tuple[str, ...], every: tuple[str, ...]) -> np.ndarray:
    """Probabilities over `every` label; one the head lacks gets 0 (it never says it)."""
    out = np.zeros((len(probs), len(every)))
    for j, label in enumerate(labels):
        out[:, every.index(label)] = probs[:, j]
    return out


def _line(name: str, r: tuple[float, ...]) -> str:
    return (
        f"{name:<24} {r[0]:10.3f} {r[1]:9.3f} {r[2]:+6.3f} {r[3]:8.3f} {r[4]:9.3f} {r[5]:+6.3f} "
        f"{r[6]:6.3f}/{r[7]:.3f} {r[8]:9.1f}"
    )


if __name__ == "__main__":
    main()
