"""Embed every corpus the head bench needs, once, into the embedding cache (and an .npz).

    cd bench && python embed_all.py --data ../../shared/data [--out runs/embedded.npz]

The training versions the bundled head learns from: the voiced part of every RAVDESS, EmoDB and
Korean clip and of every second nEMO clip, one short voiced crop of each, and babble under every
RAVDESS clip; URDU (evaluation only) clean; and held-out versions of every RAVDESS clip, cut to
0.5, 1, 1.5, 2 and 3 s of speech and under babble at 20, 10, 5 and 0 dB SNR. Everything goes
through the all-stages encoder the default model uses; a rerun re-encodes nothing. bench/head.py
calls `embed_everything` itself; this command only writes the vectors to an .npz as well.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from data_augment.datasets import Clip, read_dataset
from data_augment.embeddings import (
    EmbeddedClips,
    EmbeddingCache,
    _content_hash,
    _encoder_id,
    embed_clips,
    voiced_span,
    with_babble_at,
)
from data_augment.waves import load_waveform
from inference.encoders import open_encoder

EVAL_LENGTHS_S = (0.5, 1.0, 1.5, 2.0, 3.0)
EVAL_SNR_DB = (20.0, 10.0, 5.0, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/voicemood"))
    parser.add_argument("--out", type=Path, default=Path("runs/embedded.npz"))
    parser.add_argument("--nemo-every", type=int, default=2)
    parser.add_argument("--lengths", type=float, nargs="*", default=EVAL_LENGTHS_S)
    parser.add_argument("--snr", type=float, nargs="*", default=EVAL_SNR_DB)
    args = parser.parse_args()
    started = time.perf_counter()
    parts = embed_everything(
        args.data, args.cache_dir, nemo_every=args.nemo_every, lengths=args.lengths, snr=args.snr
    )
    arrays: dict[str, np.ndarray] = {}
    for name, embedded in parts.items():
        _put(arrays, name, embedded)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **arrays)
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")


def embed_everything(
    data: Path,
    cache_dir: Path,
    *,
    nemo_every: int = 2,
    copies: int = 0,
    lengths: tuple[float, ...] | list[float] = EVAL_LENGTHS_S,
    snr: tuple[float, ...] | list[float] = EVAL_SNR_DB,
) -> dict[str, EmbeddedClips]:
    """ "train" (training versions), "urdu", "cut<L>" and "babble<dB>" (held-out versions)."""
    cache_dir = Path(cache_dir).expanduser()
    encoder = open_encoder(None, stages="all", cache_dir=cache_dir)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite3")
    small = read_dataset([f"{name}:{data / name}" for name in ("ravdess", "emodb", "korean")])
    # nEMO is 4,481 clips: every second one (all nine speakers) keeps the embedding time in bounds.
    nemo = read_dataset(f"nemo:{data / 'nemo'}")[::nemo_every]
    urdu = read_dataset(f"urdu:{data / 'urdu'}")
    ravdess = [c for c in small if c.corpus == "ravdess"]
    try:
        parts = {
            "train": EmbeddedClips.concat(
                embed_clips(ravdess, encoder, cache, copies=copies, crops=1, babble=1),
                embed_clips(
                    [c for c in small if c.corpus != "ravdess"],
                    encoder,
                    cache,
                    copies=copies,
                    crops=1,
                ),
                embed_clips(nemo, encoder, cache, copies=copies, crops=1),
            ),
            "urdu": embed_clips(urdu, encoder, cache),
        }
        for length in lengths:
            parts[f"cut{length:g}"] = embed_eval(ravdess, encoder, cache, "cut", length)
        for level in snr:
            parts[f"babble{level:g}"] = embed_eval(ravdess, encoder, cache, "babble", level)
    finally:
        cache.close()
    return parts


def embed_eval(
    clips: list[Clip], encoder, cache: EmbeddingCache, kind: str, value: float
) -> EmbeddedClips:  # noqa: ANN001
    """Every clip cut to `value` s of speech (kind "cut") or under babble at `value` dB."""
    from tqdm import tqdm

    vectors, seconds = [], []
    talkers = [c.path for c in clips]
    speakers = [c.speaker for c in clips]
    encoder_id = _encoder_id(encoder)
    for clip in tqdm(clips, desc=f"{kind} {value:g}", unit="clip"):
        content = _content_hash(clip.path)
        key = f"{encoder_id}:{content}:eval-{kind}:{value:g}+s"
        row = cache.get(key)
        if row is None:
            wave = load_waveform(clip.path)
            rng = np.random.default_rng(int(content[:12], 16))
            if kind == "cut":
                start, end = voiced_span(wave, pad_s=0.0)
                length = int(value * 16_000)
                middle = (start + end) // 2
                at = max(start, min(middle - length // 2, end - length))
                wave = wave[max(0, at) : max(0, at) + length]
            else:
                others = [p for p, s in zip(talkers, speakers, strict=True) if s != clip.speaker]
                wave = with_babble_at(wave, others, rng, value)
            row = np.append(encoder.embed([wave])[0], np.float32(len(wave) / 16_000))
            cache.put(key, row)
        vectors.append(row[:-1])
        seconds.append(row[-1])
    cache.commit()
    n = len(clips)
    return EmbeddedClips(
        list(clips),
        np.stack(vectors),
        np.zeros(n, np.int64),
        np.full(n, kind),
        np.asarray(seconds, np.float32),
    )


def _put(arrays: dict[str, np.ndarray], name: str, e: EmbeddedClips) -> None:
    arrays[f"{name}.vectors"] = e.vectors.astype(np.float32)
    arrays[f"{name}.copy"] = e.copy
    arrays[f"{name}.kinds"] = e.kind_of().astype(str)
    arrays[f"{name}.seconds"] = (
        e.seconds if e.seconds is not None else np.zeros(len(e.clips), np.float32)
    )
    arrays[f"{name}.path"] = np.array([str(c.path) for c in e.clips])
    arrays[f"{name}.label"] = np.array([c.label for c in e.clips])
    arrays[f"{name}.speaker"] = np.array([c.speaker for c in e.clips])
    arrays[f"{name}.corpus"] = np.array([c.corpus for c in e.clips])


if __name__ == "__main__":
    main()
