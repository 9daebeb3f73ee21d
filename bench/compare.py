"""The compact model against the HuBERT path, trained on the same speaker split.

    python bench/compare.py init runs/hubert-init        # a from-scratch HuBERT-architecture folder
    voicemood train --arch hubert --init runs/hubert-init --no-freeze-encoder ... --out runs/hubert-a
    voicemood train --arch compact ... --out runs/split-a          # same --test-speakers
    python bench/compare.py table runs/split-a runs/hubert-a [--runs 7] [--threads 2]

`init` writes a small HuBERT (4 layers, 144 wide) with random weights: this machine cannot
download a pretrained checkpoint, and only small configs train on its two cores. The `table`
reads each run folder's metrics.json (test accuracy and UAR on the held-out speakers, the
four-class accuracy, training time) and measures, in this run, the median inference time of a
5 s clip through the bot's own loader (`--runs` calls after a warm-up), with HuBERT-base
(random weights, its default config: the cost of the production path) as the baseline row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from compact import _hubert_base, _median_s, _speech
from hubert_folder import hubert_base_mb, write_hubert

CLIP_S = 5.0
# `init`'s HuBERT: 4 layers, 144 wide, layer-normed like the large checkpoints.
SMALL = {
    "hidden_size": 144,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "intermediate_size": 576,
    "conv_dim": (32,) * 7,
    "feat_extract_norm": "layer",
    "do_stable_layer_norm": True,
    "num_conv_pos_embeddings": 64,
    "num_conv_pos_embedding_groups": 8,
    "classifier_proj_size": 128,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="write a from-scratch HuBERT-architecture folder")
    init.add_argument("out", type=Path)
    table = commands.add_parser("table", help="compare trained run folders")
    table.add_argument("runs", nargs="+", type=Path, help="run folders (same test speakers)")
    table.add_argument("--runs-per-cell", type=int, default=7)
    table.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.command == "init":
        write_hubert_init(args.out)
        print(f"wrote {args.out}")
    else:
        torch.set_num_threads(args.threads)
        print_table(args.runs, args.runs_per_cell)


def write_hubert_init(folder: Path) -> None:
    """A small HuBERT classifier with random weights (its head is replaced by the training labels)."""
    write_hubert(folder, size=SMALL)


def print_table(runs: list[Path], runs_per_cell: int) -> None:
    from inference.models import load_model

    clip = np.resize(_speech(), int(CLIP_S * 16_000)).astype(np.float32)
    rows: list[dict[str, Any]] = []
    for run in runs:
        metrics = json.loads((run / "metrics.json").read_text("utf-8"))
        model = load_model(str(run))
        seconds = _median_s(lambda model=model: model.predict([clip]), runs_per_cell)
        test = metrics["test"]
        rows.append(
            {
                "model": f"{run.name} ({metrics['arch']})",
                "test": ", ".join(sorted(metrics["speakers"]["test"])),
                "accuracy": test["overall"]["accuracy"],
                "uar": test["overall"]["uar"],
                "four": (test["four_class"] or {}).get("accuracy"),
                "train_min": metrics["train_seconds"] / 60,
                "ms_per_s": 1000 * seconds / CLIP_S,
                "mb": _weights_mb(run),
            }
        )
    hubert = _hubert_base()
    base = _median_s(lambda: hubert(clip), runs_per_cell)
    print(
        f"test speakers: {rows[0]['test'] if rows else '-'}; inference on one {CLIP_S:.0f} s clip"
    )
    print()
    print(
        "| model | accuracy | UAR | 4-class acc | training | ms per audio-s | vs HuBERT-base | size |"
    )
    print("|---|---|---|---|---|---|---|---|")
    base_ms = 1000 * base / CLIP_S
    for row in rows:
        four = f"{row['four']:.3f}" if row["four"] is not None else "-"
        print(
            f"| {row['model']} | {row['accuracy']:.3f} | {row['uar']:.3f} | {four} "
            f"| {row['train_min']:.0f} min | {row['ms_per_s']:.1f} "
            f"| {base_ms / row['ms_per_s']:.0f}x faster | {row['mb']:.1f} MB |"
        )
    print(
        f"| HuBERT-base fp32 (baseline, untrained) | - | - | - | - | {base_ms:.1f} | 1x "
        f"| {hubert_base_mb():.0f} MB |"
    )


def _weights_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.glob("*.safetensors")) / 1e6


if __name__ == "__main__":
    main()
