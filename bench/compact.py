"""Inference speed of the compact model against HuBERT-base fp32, both measured in this run.

    python bench/compact.py [--model FOLDER] [--runs 7] [--threads 2]

Each row is one clip length: the median wall time of `--runs` calls of `predict` on one clip
(features included, as the bot runs it), the audio seconds handled per wall second, and how many
times faster than HuBERT-base (built from its default config with random weights: the cost does
not depend on them) on the same clip. Clips are cut from RAVDESS when ../shared/data is present,
otherwise synthesised. Other processes on the machine slow both alike: read the ratio.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from hubert_folder import write_hubert
from samples import SR, median_s, speech

LENGTHS_S = (2.0, 5.0, 10.0, 30.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="compact model folder (default: the bundled compact model)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-hubert", action="store_true", help="compact model only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from inference.models import load_model

    compact = load_model(args.model or "compact")
    hubert = None if args.skip_hubert else _hubert_base()
    source = speech(4)
    print(
        f"compact: {compact.name}, {_parameters(compact):,} parameters, {_size_mb(args.model):.2f} MB"
    )
    print(f"threads: {args.threads}, runs per cell: {args.runs} (median)\n")
    header = f"{'clip s':>6} | {'compact ms':>10} | {'audio-s/s':>9} | {'HuBERT-base ms':>14} | {'audio-s/s':>9} | {'speed-up':>8}"
    print(header)
    print("-" * len(header))
    for seconds in LENGTHS_S:
        clip = np.resize(source, int(seconds * SR)).astype(np.float32)
        fast = median_s(functools.partial(compact.predict, [clip]), args.runs)
        row = f"{seconds:>6.0f} | {fast * 1000:>10.1f} | {seconds / fast:>9.0f}"
        if hubert is not None:
            slow = median_s(functools.partial(hubert, clip), args.runs)
            row += f" | {slow * 1000:>14.0f} | {seconds / slow:>9.1f} | {slow / fast:>7.0f}x"
        print(row, flush=True)


def _hubert_base() -> Callable[[np.ndarray], np.ndarray]:
    """HuBERT-base with a 4-label head, fp32, saved and loaded through the bot's loader."""
    from inference.models.hf import HFAudioClassifier

    folder = write_hubert(Path(tempfile.mkdtemp(prefix="bench-hubert-base-")), attention_mask=False)
    model = HFAudioClassifier.load(str(folder), precision="fp32")
    return lambda clip: model.predict([clip])


def _parameters(model: object) -> int:
    net = getattr(model, "net", None)
    return sum(p.numel() for p in net.parameters()) if net is not None else 0


def _size_mb(folder: str | None) -> float:
    from inference.models import COMPACT_DIR

    path = Path(folder) if folder else COMPACT_DIR
    return sum(f.stat().st_size for f in path.glob("*.safetensors")) / 1e6


if __name__ == "__main__":
    main()
