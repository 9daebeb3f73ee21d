"""Speed of the default model (Whisper-base encoder + head) against the compact CNN, in one run.

    python bench/encoder.py [--runs 5] [--notes 40] [--section model|stages|graph|both]

Per clip length: the median wall time of `predict` on one clip and the audio seconds handled per
wall second. Then the worker's throughput: a burst of `--notes` 5 s notes through the real
InferenceWorker (equal lengths batched), audio seconds per wall second, median of `--runs`
bursts. The last column is the Whisper head's figure over the compact model's, measured here.
Also the process's resident memory after loading each. Other processes slow both alike.

Section `stages`: the encoder alone, CTranslate2 int8 pooling its last output (today) against
the all-stages encoder (inference.encoder_stages: ONNX Runtime int8) and the torch fp32 / bf16
rebuild of it (and ONNX Runtime fp32): ms per batch of 1 and of 4 five-second notes, audio-s/s,
speed over today's; the agreement of each all-stages path with torch fp32 (r of the pooled
vectors, the worst of 8 RAVDESS clips) and of its last stage with CTranslate2's; the worker's
throughput on a burst of 5 s notes with a random head over each encoder; and the resident memory
of a fresh process that loads the encoder and embeds one note (RSS, and whether torch is loaded).
Measured 2026-12-06 (--runs 9 --notes 20, load average 5 on 2 cores: ratios, not speeds):
4 notes x today ONNX Runtime int8 1.16 (1 note 0.87), torch bf16 0.81, torch fp32 0.42, ONNX
Runtime fp32 0.34; r against fp32 0.9984 (int8), 0.9998 (bf16); last stage against CTranslate2
0.9958 (int8); worker burst 74 audio-s/s against today's 83; RSS 146 MiB (int8, no torch)
against 182 (CTranslate2) and 471 (torch fp32). Under a load of 12-17 int8 was 0.93x today.

Section `graph`: this all-stages graph (inference.encoder_graph's GRAPH_VERSION) against an
earlier one (`--old-graph`, default the cached version 1), each with a batch's clips embedded one
by one (as before version 2) and side by side (now): ms for 1 and for 4 five-second notes, the
worker's burst with the bundled head (audio-s/s, and CPU ms a note over all threads, which
other processes distort less than wall time), r against torch fp32 (worst of 8 RAVDESS clips);
then the bundled head's answers on `--head-clips` RAVDESS clips (spread over all 24 actors)
over the old graph and the new.
Measured 2026-12-06 23:40 and 23:48 (--runs 5 --notes 40, quieter moments: load average 1.2-2.8),
version 2 against 1: the worker's burst 137 -> 175 and 117 -> 155 audio-s/s (one by one 167 and
168), CPU 65.4 -> 54.0 and 64.5 -> 53.2 ms a note, 4 notes 147 -> 116 and 133 -> 110 ms, 1 note
43.8 -> 33.7 and 37.2 -> 30.7 ms; r 0.9984 -> 0.9989; the same answer on 40/40 clips,
probabilities moved at most 0.055 (--head-clips 200: 199/200, at most 0.10). Under loads of
4-13 (three runs) the bursts went 55 -> 84, 50 -> 76 and 75 -> 92, CPU 66-68 -> 49-58 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from samples import SR, median_s, speech

LENGTHS_S = (2.0, 5.0, 10.0, 30.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--section", choices=("model", "stages", "graph", "both"), default="both")
    parser.add_argument(
        "--old-graph",
        type=Path,
        help="an earlier all-stages int8 graph for --section graph (default: the cached version 1)",
    )
    parser.add_argument(
        "--head-clips", type=int, default=40, help="RAVDESS clips (of 1,200) the head answers"
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/voicemood"))
    parser.add_argument("--rss-of", help=argparse.SUPPRESS)  # the fresh process of one RSS line
    args = parser.parse_args()
    if args.rss_of:
        print(json.dumps(_rss_after_one_note(args.rss_of, args.cache_dir.expanduser())))
        return
    if args.section in ("model", "both"):
        model_section(args)
    if args.section in ("stages", "both"):
        stages_section(args)
    if args.section == "graph":
        graph_section(args)


def model_section(args: argparse.Namespace) -> None:
    """The default model against the compact CNN: per clip length, then a worker burst."""

    from inference.models import load_model

    rss0 = _rss_mib()
    head = load_model(None)
    rss_head = _rss_mib()
    compact = load_model("compact")
    rss_both = _rss_mib()
    print(
        f"models: {head.name} (process RSS {rss_head:.0f} MiB after loading, from {rss0:.0f}); "
        f"{compact.name} (+{rss_both - rss_head:.0f} MiB)"
    )
    print(f"runs per cell: {args.runs} (median)\n")
    source = speech(8)
    header = f"{'clip s':>6} | {'head ms':>8} | {'audio-s/s':>9} | {'compact ms':>10} | {'audio-s/s':>9} | {'head/compact':>12}"
    print(header)
    print("-" * len(header))
    for seconds in LENGTHS_S:
        clip = np.resize(source, int(seconds * SR)).astype(np.float32)
        h = median_s(lambda clip=clip: head.predict([clip]), args.runs)
        c = median_s(lambda clip=clip: compact.predict([clip]), args.runs)
        print(
            f"{seconds:>6.0f} | {h * 1000:>8.1f} | {seconds / h:>9.0f} | {c * 1000:>10.1f} | "
            f"{seconds / c:>9.0f} | {h / c:>11.2f}x",
            flush=True,
        )

    notes = [
        np.resize(np.roll(source, 3000 * i), 5 * SR).astype(np.float32) for i in range(args.notes)
    ]
    print(f"\nworker burst: {args.notes} notes of 5 s at once (max batch 4)")
    print(f"{'model':>22} | {'audio-s/s':>9}")
    for model in (head, compact):
        rates = [asyncio.run(_burst(model, notes)) for _ in range(args.runs)]
        print(f"{model.name:>22} | {statistics.median(rates):>9.0f}", flush=True)


def stages_section(args: argparse.Namespace) -> None:
    """The encoder alone: last stage (CTranslate2) against every stage (ONNX Runtime, torch)."""
    import onnxruntime as ort
    import torch

    from inference.encoder import WhisperEncoder
    from inference.encoder_graph import build_graph, build_torch_encoder, read_ct2
    from inference.encoders import open_encoder

    torch.set_num_threads(2)
    cache_dir = args.cache_dir.expanduser()
    print(f"\nencoder stages (load average {_load()}); runs per cell: {args.runs} (median)")
    ct2 = WhisperEncoder(cache_dir=cache_dir, threads=2)
    stages = open_encoder(stages="all", cache_dir=cache_dir, threads=2)
    weights = read_ct2(ct2.folder / "model.bin")
    reference = _TorchStages(build_torch_encoder(weights), torch.float32)
    ort_fp32 = _OrtStages(
        stages, ort.InferenceSession(build_graph(weights).SerializeToString(), _ort_options())
    )
    encoders: dict[str, object] = {
        "CTranslate2 int8, last (today)": ct2,
        "ONNX Runtime int8, all": stages,
        "ONNX Runtime fp32, all": ort_fp32,
        "torch fp32, all": reference,
        "torch bf16, all": _TorchStages(build_torch_encoder(weights), torch.bfloat16),
    }
    source = speech(8)
    notes = [np.resize(np.roll(source, 3000 * i), 5 * SR).astype(np.float32) for i in range(4)]
    clips = _ravdess_clips(8) or [np.roll(source, 7000 * i)[: 3 * SR] for i in range(8)]
    truth, today = reference.embed(clips), ct2.embed(clips)
    header = (
        f"{'encoder, 5 s notes':30} | {'1 note ms':>9} | {'audio-s/s':>9} | {'4 notes ms':>10} | "
        f"{'audio-s/s':>9} | {'x today':>7} | {'r fp32':>6} | {'r last/CT2':>10}"
    )
    print(header)
    print("-" * len(header))
    # Other processes come and go: the backends take turns, so each sees the same load.
    ones = _medians_in_turn({name: _call(e, notes[:1]) for name, e in encoders.items()}, args.runs)
    fours = _medians_in_turn({name: _call(e, notes) for name, e in encoders.items()}, args.runs)
    base = fours["CTranslate2 int8, last (today)"]
    for name, encoder in encoders.items():
        one, four = ones[name], fours[name]
        agreement, last = "", ""
        if encoder is not ct2:
            vectors = encoder.embed(clips)  # type: ignore[attr-defined]
            agreement = f"{min(_corr(a, b) for a, b in zip(vectors, truth, strict=True)):.4f}"
            last = f"{min(_corr(a[-1024:], b) for a, b in zip(vectors, today, strict=True)):.4f}"
        print(
            f"{name:30} | {one * 1000:>9.0f} | {5 / one:>9.0f} | {four * 1000:>10.0f} | "
            f"{20 / four:>9.0f} | {base / four:>7.2f} | {agreement:>6} | {last:>10}",
            flush=True,
        )

    burst = [
        np.resize(np.roll(source, 3000 * i), 5 * SR).astype(np.float32) for i in range(args.notes)
    ]
    print(f"\nworker burst: {args.notes} notes of 5 s at once (max batch 4), a random 8-class head")
    print(f"{'encoder':30} | {'audio-s/s':>9}")
    names = ("CTranslate2 int8, last (today)", "ONNX Runtime int8, all")
    models = {name: _random_head(encoders[name]) for name in names}
    rates = {name: [] for name in names}  # type: dict[str, list[float]]
    for _ in range(args.runs):
        for name, model in models.items():
            rates[name].append(asyncio.run(_burst(model, burst)))
    for name in names:
        print(f"{name:30} | {statistics.median(rates[name]):>9.0f}", flush=True)

    print("\nresident memory of a fresh process: load the encoder, embed one 5 s note")
    for backend in ("ct2", "ort-int8", "torch-fp32"):
        run = subprocess.run(
            [sys.executable, __file__, "--rss-of", backend, "--cache-dir", str(cache_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        facts = json.loads(run.stdout.strip().splitlines()[-1])
        print(
            f"RSS {backend:10} {facts['rss_mib']:6.0f} MiB (before loading {facts['start_mib']:.0f}; "
            f"torch imported: {facts['torch']})"
        )
    print(f"load average at the end {_load()}")


def graph_section(args: argparse.Namespace) -> None:
    """This all-stages graph against an earlier one, in one run, with the bundled head on both."""
    import copy

    import onnxruntime as ort

    from inference.encoder_graph import GRAPH_VERSION
    from inference.models import load_model

    model = load_model(None)
    new = model.encoder  # type: ignore[attr-defined]
    old_path = args.old_graph or next(new.folder.glob("stages-*-v1-int8.onnx"), None)
    if old_path is None:
        print("no earlier graph: pass --old-graph (version 1 is cached once the bot ran it)")
        return
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = new._threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_cpu_mem_arena = False
    old = copy.copy(new)
    old._session = ort.InferenceSession(str(old_path), options)
    print(
        f"\nall-stages graph: version {GRAPH_VERSION} against {old_path.name} "
        f"(load average {_load()}); runs per cell: {args.runs} (median)"
    )
    # "one by one" is how embed ran before: each clip of a batch after the other, every thread
    # on one clip's operators; "side by side" is embed now.
    encoders = {
        f"old ({old_path.name[-12:]}), one by one": _OneByOne(old),
        "old, side by side": old,
        f"new (v{GRAPH_VERSION}), one by one": _OneByOne(new),
        f"new (v{GRAPH_VERSION}), side by side": new,
    }
    source = speech(8)
    notes = [np.resize(np.roll(source, 3000 * i), 5 * SR).astype(np.float32) for i in range(4)]
    ones = _medians_in_turn({name: _call(e, notes[:1]) for name, e in encoders.items()}, args.runs)
    fours = _medians_in_turn({name: _call(e, notes) for name, e in encoders.items()}, args.runs)
    burst = [
        np.resize(np.roll(source, 3000 * i), 5 * SR).astype(np.float32) for i in range(args.notes)
    ]
    models = {name: _with_encoder(model, e) for name, e in encoders.items()}
    rates: dict[str, list[float]] = {name: [] for name in encoders}
    cpu: dict[str, list[float]] = {name: [] for name in encoders}  # CPU s a note, all threads
    for _ in range(args.runs):
        for name, each in models.items():
            started = time.process_time()
            rates[name].append(asyncio.run(_burst(each, burst)))
            cpu[name].append((time.process_time() - started) / (len(burst) + 1))
    clips = _ravdess_clips(8)
    truth = _torch_reference(new, clips) if clips else None
    header = (
        f"{'graph, 5 s notes':32} | {'1 note ms':>9} | {'4 notes ms':>10} | {'ms a note':>9} | "
        f"{'x old':>5} | {'burst a-s/s':>11} | {'CPU ms':>6} | {'r fp32':>6}"
    )
    print(header)
    print("-" * len(header))
    base = fours[next(iter(encoders))]
    for name, encoder in encoders.items():
        agreement = ""
        if truth is not None:
            vectors = encoder.embed(clips)
            agreement = f"{min(_corr(a, b) for a, b in zip(vectors, truth, strict=True)):.4f}"
        print(
            f"{name:32} | {ones[name] * 1000:>9.1f} | {fours[name] * 1000:>10.1f} | "
            f"{fours[name] * 250:>9.1f} | {base / fours[name]:>5.2f} | "
            f"{statistics.median(rates[name]):>11.0f} | "
            f"{statistics.median(cpu[name]) * 1000:>6.1f} | {agreement:>6}",
            flush=True,
        )
    heard = _ravdess_clips(args.head_clips, every=1200 // args.head_clips, actors="*")
    if heard:
        before = _with_encoder(model, old).predict(heard)  # type: ignore[attr-defined]
        after = model.predict(heard)  # type: ignore[attr-defined]
        same = int((before.argmax(1) == after.argmax(1)).sum())
        moved = np.abs(before - after)
        print(
            f"\nthe bundled head on {len(heard)} RAVDESS clips, old graph against new: the same "
            f"answer on {same}/{len(heard)}, probabilities moved at most {moved.max():.3f} "
            f"(mean {moved.mean():.4f})"
        )
    print(f"load average at the end {_load()}")


class _OneByOne:
    """An encoder's clips embedded one call each, as the all-stages encoder did before v2."""

    def __init__(self, encoder: object) -> None:
        self._encoder = encoder
        self.info = encoder.info  # type: ignore[attr-defined]

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([self._encoder.embed([wave]) for wave in batch])  # type: ignore[attr-defined]


def _with_encoder(model: object, encoder: object) -> object:
    import copy

    other = copy.copy(model)
    other.encoder = encoder  # type: ignore[attr-defined]
    return other


def _torch_reference(encoder: object, clips: list[np.ndarray]) -> np.ndarray:
    import torch

    from inference.encoder_graph import build_torch_encoder, read_ct2

    torch.set_num_threads(2)
    weights = read_ct2(encoder.folder / "model.bin")  # type: ignore[attr-defined]
    return _TorchStages(build_torch_encoder(weights), torch.float32).embed(clips)


def _call(encoder: object, batch: list[np.ndarray]) -> Callable[[], object]:
    return lambda: encoder.embed(batch)  # type: ignore[attr-defined]


def _medians_in_turn(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median wall seconds of each call, the calls taking turns run after run (one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()
    for _ in range(runs):
        for name, call in calls.items():
            time.sleep(0.05)  # the last backend's idle threads stop spinning first
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


class _TorchStages:
    """The torch rebuild with the production front end and pooling; equal lengths batched."""

    def __init__(self, model: object, dtype: object) -> None:
        from faster_whisper.feature_extractor import FeatureExtractor

        self._model = model.to(dtype)  # type: ignore[attr-defined]
        self._dtype = dtype
        self._features = FeatureExtractor(feature_size=80)

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        if len({len(wave) for wave in batch}) > 1:
            return np.concatenate([self.embed([wave]) for wave in batch])
        import torch

        from inference.encoder import SAMPLES_PER_FRAME, log_mel

        mel = np.stack([log_mel(self._features, wave) for wave in batch])
        valid = max(1, min(mel.shape[-1] // 2, -(-len(batch[0]) // SAMPLES_PER_FRAME)))
        outputs = self._model(torch.from_numpy(mel).to(self._dtype))[1:]
        kept = [o[:, :valid].float() for o in outputs]
        return torch.cat([t for o in kept for t in (o.mean(1), o.std(1, correction=0))], 1).numpy()


class _OrtStages:
    """The all-stages encoder's front end and pooling over another ONNX session (fp32)."""

    def __init__(self, encoder: object, session: object) -> None:
        import copy

        self._encoder = copy.copy(encoder)
        self._encoder._session = session  # type: ignore[attr-defined]

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        return self._encoder.embed(batch)  # type: ignore[attr-defined]


def _ort_options() -> object:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
    return options


def _random_head(encoder: object) -> object:
    from inference.models.whisper_head import HeadCard, Heads, LinearHead, WhisperHeadModel

    info = encoder.info  # type: ignore[attr-defined]
    rng = np.random.default_rng(0)
    head = LinearHead(
        mean=np.zeros(info.dim, np.float32),
        std=np.ones(info.dim, np.float32),
        weight=rng.normal(0, 0.01, (8, info.dim)).astype(np.float32),
        bias=np.zeros(8, np.float32),
    )
    labels = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    return WhisperHeadModel(encoder, Heads(head), HeadCard(labels, "bench", info))  # type: ignore[arg-type]


def _rss_after_one_note(backend: str, cache_dir: Path) -> dict[str, object]:
    start = _rss_mib()
    if backend == "torch-fp32":
        import torch

        from inference.encoder import WhisperEncoder
        from inference.encoder_graph import build_torch_encoder, read_ct2

        torch.set_num_threads(2)
        folder = WhisperEncoder(cache_dir=cache_dir, threads=2).folder
        encoder: object = _TorchStages(
            build_torch_encoder(read_ct2(folder / "model.bin")), torch.float32
        )
    else:
        from inference.encoders import open_encoder

        stages = "last" if backend == "ct2" else "all"
        encoder = open_encoder(stages=stages, cache_dir=cache_dir, threads=2)
    encoder.embed([np.resize(speech(2), 5 * SR).astype(np.float32)])  # type: ignore[attr-defined]
    return {"rss_mib": _rss_mib(), "start_mib": start, "torch": "torch" in sys.modules}


def _ravdess_clips(count: int, every: int = 23, actors: str = "0[1-4]") -> list[np.ndarray]:
    from samples import SHARED_DATA

    folder = SHARED_DATA / "ravdess"
    paths = sorted(folder.glob(f"Actor_{actors}/*.flac"))[::every][:count]
    if not paths:
        return []
    import soundfile as sf

    return [sf.read(path, dtype="float32")[0] for path in paths]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


async def _burst(model: object, notes: list[np.ndarray]) -> float:
    from inference.worker import InferenceWorker, WorkerConfig

    async with InferenceWorker(model, WorkerConfig(max_queue=len(notes), max_batch=4)) as worker:  # type: ignore[arg-type]
        await worker.predict(notes[0])  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(worker.predict(n) for n in notes))
        return len(notes) * 5.0 / (time.perf_counter() - started)


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
