"""Would the head hear better from Whisper's middle layers? (A measurement for the next model.)

    python bench/whisper_layers.py --data ../shared/data [--cache-dir DIR] [--runs 5]

The default model pools only the encoder's last output, because CTranslate2 returns nothing
else. This bench rebuilds the same Whisper-base encoder in torch from the packaged CTranslate2
weights (inference.encoder_graph: model.bin read as is, fp16 arrays by name), checks that its last output matches
CTranslate2's, then:
  1. embeds every RAVDESS clip of actors 1-20 once per layer (mean and std over time, as the
     default model pools), and scores a plain linear head (standardise + logistic regression,
     C 0.03, balanced classes) on 5 folds of 4 held-out actors, for the last output (today's
     input), each layer, and all layers side by side;
  2. times a batch of four 5 s notes through CTranslate2 int8 (today), torch fp32 and torch
     with dynamically quantised int8 linear layers: median of `--runs`, ratio against today's.

Measured on 2026-11-30 (2 busy cores), clean clips, training on RAVDESS only:
last output 0.720 UAR (the default model's own figure is 0.719); layers 3-4 0.733; all seven
outputs side by side 0.756 (C 0.01-0.1 alike), and 0.756 again with int8 linear layers.
2026-12-07: the seven outputs 0.755, with the conv stem's output beside them 0.751 (the stem
alone 0.579): the stem adds nothing.
Speed, three runs: torch fp32 at 0.15-0.35x CTranslate2's, torch dynamic int8 at 0.6-1.2x.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from samples import SHARED_DATA, SR, median_s

_C = 0.03


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/voicemood"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import torch

    from inference.encoder import WhisperEncoder
    from inference.encoder_graph import build_torch_encoder, read_ct2

    torch.set_num_threads(2)
    ct2 = WhisperEncoder(cache_dir=args.cache_dir.expanduser(), threads=2)
    weights = read_ct2(ct2.folder / "model.bin")
    model = build_torch_encoder(weights)

    clip = args.data / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.flac"
    mel = _mels(ct2, [np.resize(_load(clip), 5 * SR)] * 4)
    ours = model(torch.from_numpy(mel))[-1].numpy()
    theirs = np.asarray(ct2._model.encode(ct2._storage_view.from_array(mel), to_cpu=True))
    print(f"torch's last output against CTranslate2's: r = {_corr(ours, theirs):.4f}\n")

    layers, speakers, labels = embed_ravdess(ct2, model, args.data / "ravdess")
    print(f"{'input':28} {'UAR (5 folds)':>14}")
    names = [f"layer {i} output" for i in range(layers.shape[1] - 1)] + ["last (today's input)"]
    names[0] = "conv stem (layer 0 input)"
    for i, name in enumerate(names):
        print(f"{name:28} {_uar(layers[:, i], speakers, labels):14.3f}")
    side_by_side = layers[:, 1:].reshape(len(layers), -1)
    print(f"{'all outputs side by side':28} {_uar(side_by_side, speakers, labels):14.3f}")
    with_stem = layers.reshape(len(layers), -1)
    print(f"{'the conv stem too':28} {_uar(with_stem, speakers, labels):14.3f}")
    quantised = torch.ao.quantization.quantize_dynamic(
        build_torch_encoder(weights), {torch.nn.Linear}, dtype=torch.qint8
    )
    layers, speakers, labels = embed_ravdess(ct2, quantised, args.data / "ravdess")
    side_by_side = layers[:, 1:].reshape(len(layers), -1)
    print(f"{'the same, int8 linear layers':28} {_uar(side_by_side, speakers, labels):14.3f}\n")

    batch = torch.from_numpy(mel)
    timed = {
        "CTranslate2 int8 (today)": lambda: ct2._model.encode(
            ct2._storage_view.from_array(mel), to_cpu=True
        ),
        "torch fp32": lambda: model(batch),
        "torch dynamic int8": lambda: quantised(batch),
    }
    medians = {name: median_s(call, args.runs) for name, call in timed.items()}
    base = medians["CTranslate2 int8 (today)"]
    print(f"{'encoder, 4 x 5 s notes':28} {'median ms':>10} {'audio-s/s':>10} {'x today':>8}")
    for name, seconds in medians.items():
        print(f"{name:28} {seconds * 1000:10.0f} {20 / seconds:10.0f} {base / seconds:8.2f}")


def embed_ravdess(ct2, model, folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: ANN001
    """(clips, outputs, 1024) pooled per output, the actor of each clip, and its label."""
    import torch

    pooled, speakers, labels = [], [], []
    with open(folder / "metadata.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    started = time.perf_counter()
    for row in rows:
        wave = _load(folder / row["path"])
        outputs = model(torch.from_numpy(_mels(ct2, [wave])))
        valid = max(1, min(outputs[0].shape[1], -(-len(wave) // 320)))
        pooled.append(
            np.stack(
                [
                    np.concatenate([o[0, :valid].mean(0).numpy(), o[0, :valid].std(0).numpy()])
                    for o in outputs
                ]
            )
        )
        speakers.append(int(row["speaker"]))
        labels.append(row["emotion"])
    print(f"embedded {len(rows)} RAVDESS clips per layer in {time.perf_counter() - started:.0f} s")
    return np.stack(pooled), np.array(speakers), np.array(labels)


def _uar(x: np.ndarray, speakers: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import recall_score
    from threadpoolctl import threadpool_limits

    predicted = np.empty(len(labels), dtype=labels.dtype)
    for fold in range(5):
        test = (speakers > 4 * fold) & (speakers <= 4 * fold + 4)
        mean, std = x[~test].mean(0), x[~test].std(0) + 1e-6
        head = LogisticRegression(C=_C, max_iter=3000, class_weight="balanced")
        with threadpool_limits(limits=1):
            head.fit((x[~test] - mean) / std, labels[~test])
        predicted[test] = head.predict((x[test] - mean) / std)
    return float(recall_score(labels, predicted, average="macro"))


def _mels(ct2, waves: list[np.ndarray]) -> np.ndarray:  # noqa: ANN001
    return np.stack([ct2._mel(w) for w in waves])


def _load(path: Path) -> np.ndarray:
    import soundfile as sf

    wave, rate = sf.read(path, dtype="float32")
    assert rate == SR, (path, rate)
    return wave if wave.ndim == 1 else wave.mean(axis=1)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), np.asarray(b, np.float32).ravel())[0, 1])


if __name__ == "__main__":
    main()
