"""Throughput of the shared worker as configured for this CPU against the naive way, on HuBERT-base.

    python bench/worker.py [--runs 5] [--clips 8] [--variant precision=fp32,max_batch=1 ...]

(a) naive: a child process with glibc's default allocator, one fp32 transformers forward per
    request, one at a time (feature extractor + model under torch.no_grad).
(b) worker: a child process started with TUNED_MALLOC_ENV, the model loaded through
    HFAudioClassifier.load in bf16, every request submitted to the InferenceWorker at once.

HuBERT-base is built from its default config with random weights (the cost does not depend on
them) and saved, so loading goes through the real code. Clips are cut from RAVDESS when
../shared/data is present, otherwise synthesised. Both children stay resident and take turns,
run by run, so load from other processes on the machine hits both alike: compare the ratio, not
the absolute numbers. Random weights answer near-uniformly, so argmax agreement here is a harsh
check of bf16; confirm on a trained model with labelled audio too.
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
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hubert_folder import write_hubert

from inference.runtime import TUNED_MALLOC_ENV, with_tuned_allocator

SR = 16_000
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Contender:
    """One child process configuration and what it measured."""

    name: str
    kind: str  # "naive" or "worker"
    options: dict[str, str]
    seconds: dict[str, list[float]] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)
    probabilities: dict[str, np.ndarray] = field(default_factory=dict)
    peak_rss_mib: float = 0.0
    burst_rss_mib: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clips", type=int, default=8, help="clips per workload")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="an extra worker configuration to race too, e.g. precision=fp32,max_batch=1 "
        "(also threads=N for torch.set_num_threads, malloc=0 for glibc's defaults, "
        "omp=passive for OMP_WAIT_POLICY=PASSIVE)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--clips-file", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, Path(args.model), Path(args.clips_file), _options(args.options))
        return

    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        folder = write_hubert(Path(tmp) / "hubert-base")
        workloads, source = _workloads(args.clips)
        clips_file = Path(tmp) / "clips.npz"
        arrays: dict[str, Any] = {
            f"{w}|{i}": c for w, cs in workloads.items() for i, c in enumerate(cs)
        }
        np.savez(clips_file, **arrays)
        contenders = [
            Contender("(a) naive fp32, one by one", "naive", {"malloc": "0"}),
            Contender("(b) worker bf16 + tuned malloc", "worker", {"precision": "bf16"}),
        ]
        contenders += [Contender(f"    worker {v}", "worker", _options(v)) for v in args.variant]
        print(
            f"HuBERT-base (random weights), clips from {source}, {args.runs} runs, CPUs: {os.cpu_count()}"
        )
        _race(contenders, folder, clips_file, workloads, args.runs)
    _report(contenders, workloads)


def _race(
    contenders: list[Contender],
    folder: Path,
    clips_file: Path,
    workloads: dict[str, list[np.ndarray]],
    runs: int,
) -> None:
    """Start every contender, then let them take turns, one run of one workload at a time."""
    children = [_spawn(c, folder, clips_file) for c in contenders]
    try:
        for child in children:
            _ask(child, {"warm": True})
        for run in range(runs):
            for name in workloads:
                # Alternate who goes first, so a slow spell on the machine is shared fairly.
                order = list(zip(contenders, children, strict=True))
                for contender, child in order if run % 2 == 0 else order[::-1]:
                    answer = _ask(child, {"workload": name})
                    contender.seconds.setdefault(name, []).append(answer["seconds"])
                    contender.labels[name] = answer["labels"]
                    contender.probabilities[name] = np.array(answer["probabilities"])
            print(f"  run {run + 1}/{runs} done", file=sys.stderr)
        for contender, child in zip(contenders, children, strict=True):
            final = _ask(child, {"quit": True})
            contender.peak_rss_mib = final["peak_rss_kib"] / 1024
            contender.burst_rss_mib = final["burst_rss_kib"] / 1024
    finally:
        for child in children:
            child.kill()


def _report(contenders: list[Contender], workloads: dict[str, list[np.ndarray]]) -> None:
    """One row per workload and contender; "paired" is the median of run-by-run ratios."""
    header = (
        "workload",
        "config",
        "audio-s/s",
        "runs (min-max)",
        "vs (a)",
        "paired",
        "argmax = (a)",
        "max |dp|",
        "peak RSS",
        "RSS in bursts",
    )
    rows = []
    baseline = contenders[0]
    for name, clips in workloads.items():
        audio_s = sum(len(c) for c in clips) / SR
        base_speed = statistics.median(audio_s / s for s in baseline.seconds[name])
        for contender in contenders:
            speeds = [audio_s / s for s in contender.seconds[name]]
            speed = statistics.median(speeds)
            agree = sum(
                a == b for a, b in zip(contender.labels[name], baseline.labels[name], strict=True)
            )
            drift = np.abs(contender.probabilities[name] - baseline.probabilities[name]).max()
            rows.append(
                (
                    f"{name} ({audio_s:.0f} audio-s)",
                    contender.name,
                    f"{speed:.1f}",
                    f"{min(speeds):.1f}-{max(speeds):.1f}",
                    f"{speed / base_speed:.2f}x",
                    f"{statistics.median(a / b for a, b in zip(baseline.seconds[name], contender.seconds[name], strict=True)):.2f}x",
                    f"{agree}/{len(clips)}",
                    f"{drift:.4f}",
                    f"{contender.peak_rss_mib:.0f} MiB",
                    f"{contender.burst_rss_mib:.0f} MiB",
                )
            )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    top2 = np.sort(np.concatenate(list(baseline.probabilities.values())), axis=1)[:, -2:]
    print(
        f"(a)'s median gap between its two likeliest labels: {np.median(top2[:, 1] - top2[:, 0]):.4f} "
        "(random weights answer near-uniformly, so argmax flips wherever |dp| exceeds the gap)"
    )


def _workloads(count: int) -> tuple[dict[str, list[np.ndarray]], str]:
    """Equal 5 s clips, and a burst of 1-15 s clips of random lengths (fixed seed)."""
    rng = np.random.default_rng(0)
    stream, source = _speech_stream(rng)
    lengths = {
        "5 s clips": [5.0] * count,
        "mixed 1-15 s": [float(s) for s in rng.uniform(1.0, 15.0, count)],
    }
    workloads = {}
    for name, seconds in lengths.items():
        clips = []
        for s in seconds:
            n = int(s * SR)
            start = int(rng.integers(0, len(stream) - n))
            clips.append(stream[start : start + n].copy())
        workloads[name] = clips
    return workloads, source


def _speech_stream(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A minute or more of speech to cut clips from: RAVDESS recordings back to back, or a synthetic voice."""
    metadata = SHARED_DATA / "ravdess" / "metadata.csv"
    if metadata.is_file():
        import csv

        import soundfile as sf

        with open(metadata, newline="") as f:
            paths = sorted(row["path"] for row in csv.DictReader(f))
        chosen = rng.choice(paths, size=40, replace=False)
        parts = [sf.read(SHARED_DATA / "ravdess" / p, dtype="float32")[0] for p in chosen]
        return np.concatenate(parts), "RAVDESS (40 recordings back to back)"
    t = np.arange(90 * SR) / SR
    pitch = 140 * (1 + 0.15 * np.sin(2 * np.pi * 0.7 * t))
    voiced = sum(np.sin(k * 2 * np.pi * np.cumsum(pitch) / SR) / k for k in range(1, 8))
    envelope = (0.5 * (1 + np.sin(2 * np.pi * 4.0 * t))) ** 2
    signal = voiced * envelope + 0.01 * rng.standard_normal(len(t))
    return (0.3 * signal / np.abs(signal).max()).astype(
        np.float32
    ), "a synthetic voice (no ../shared/data)"


def _spawn(contender: Contender, folder: Path, clips_file: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in TUNED_MALLOC_ENV}
    env.pop("OMP_WAIT_POLICY", None)
    if contender.options.get("malloc") != "0":
        env = with_tuned_allocator(env) or env
    if contender.options.get("omp") == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    env |= {
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    options = ",".join(f"{k}={v}" for k, v in contender.options.items())
    command = [sys.executable, __file__, "--child", contender.kind, "--model", str(folder)]
    command += ["--clips-file", str(clips_file), "--options", options]
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
    )


def _ask(child: subprocess.Popen[str], request: dict[str, Any]) -> dict[str, Any]:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(request) + "\n")
    child.stdin.flush()
    line = child.stdout.readline()
    if not line:
        raise RuntimeError(f"benchmark child {child.args!r} died (exit code {child.wait()})")
    return json.loads(line)


def _options(spec: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in spec.split(",") if part)


def _child(kind: str, folder: Path, clips_file: Path, options: dict[str, str]) -> None:
    """Serve run requests from the parent on stdin, one JSON line per answer on stdout."""
    import torch

    if "threads" in options:
        torch.set_num_threads(int(options["threads"]))
    with np.load(clips_file) as archive:
        workloads: dict[str, list[np.ndarray]] = {}
        for key in sorted(archive.files, key=lambda k: (k.split("|")[0], int(k.split("|")[1]))):
            workloads.setdefault(key.split("|")[0], []).append(archive[key])
    classify = _naive(folder) if kind == "naive" else _through_worker(folder, options)
    burst_rss = _RssSampler()
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            _reply(
                {
                    "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                    "burst_rss_kib": burst_rss.peak_kib,
                }
            )
            return
        if request.get("warm"):
            for clips in workloads.values():
                classify([max(clips, key=len)])
            _reply({})
            continue
        clips = workloads[request["workload"]]
        start = time.perf_counter()
        with burst_rss:
            labels, probabilities = classify(clips)
        _reply(
            {
                "seconds": time.perf_counter() - start,
                "labels": labels,
                "probabilities": probabilities.tolist(),
            }
        )


def _naive(folder: Path) -> Any:
    """One fp32 forward per clip, as a transformers example would write it."""
    import torch
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from inference.labels import canonical_columns, to_canonical

    extractor = AutoFeatureExtractor.from_pretrained(folder)
    model = AutoModelForAudioClassification.from_pretrained(folder).eval()
    native = [model.config.id2label[i] for i in range(model.config.num_labels)]
    columns = canonical_columns(native)
    order = [native.index(next(n for n in native if to_canonical(n) == c)) for c in columns]

    def classify(clips: list[np.ndarray]) -> tuple[list[str], np.ndarray]:
        rows = []
        for clip in clips:
            with torch.no_grad():
                inputs = extractor(clip, sampling_rate=SR, return_tensors="pt")
                rows.append(torch.softmax(model(**inputs).logits, dim=-1)[0].numpy())
        probabilities = np.array(rows)[:, order]
        return [columns[i] for i in probabilities.argmax(axis=1)], probabilities

    return classify


def _through_worker(folder: Path, options: dict[str, str]) -> Any:
    """Every clip submitted at once to the InferenceWorker, on one event loop kept for all runs."""
    from inference.models.hf import HFAudioClassifier
    from inference.worker import InferenceWorker, WorkerConfig

    model = HFAudioClassifier.load(str(folder), precision=options.get("precision", "bf16"))
    config = WorkerConfig(max_batch=int(options.get("max_batch", WorkerConfig.max_batch)))
    worker = InferenceWorker(model, config)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(worker.start())

    def classify(clips: list[np.ndarray]) -> tuple[list[str], np.ndarray]:
        async def burst() -> list[np.ndarray]:
            return await asyncio.gather(*(worker.predict(c) for c in clips))

        probabilities = np.array(loop.run_until_complete(burst()))
        return [model.labels[i] for i in probabilities.argmax(axis=1)], probabilities

    return classify


def _reply(answer: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


class _RssSampler:
    """The highest resident set size seen while a workload runs (sampled every 10 ms).

    ru_maxrss also counts loading, when the checkpoint file is mapped beside the weights; the
    target is about the process serving a burst.
    """

    def __init__(self) -> None:
        self.peak_kib = 0
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> None:
        self._running.set()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def __exit__(self, *exc: object) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join()

    def _sample(self) -> None:
        while self._running.is_set():
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                        break
            time.sleep(0.01)


if __name__ == "__main__":
    main()
