"""Latency and burst behaviour of the Telegram bot, through the real PTB Application and service.

    python bench/telegram_latency.py [--runs 5] [--notes 50] [--burst 200] [--users 50]
                                     [--model auto|base|compact|tiny|PATH]

The fake Bot API (tests/fakes) runs on loopback in the same process, so network time is ~0 and
what is measured is the bot itself: long-poll wake-up, getFile + download, decoding, the shared
worker, storage, and sending the answer through the rate limiter. Each run:

(a) baseline: `Analyzer.analyse(ogg)` called directly (decode + model), once per note;
(b) Telegram: a 5 s OGG/Opus voice note injected as an update, until its answer is sent;
    (a) and (b) alternate note by note, so machine load hits both alike;
(c) burst: N voice notes from M users at once; every one must get an answer or a "busy" reply.

The model is the default Whisper head when inference/models/bundled/ holds one, else HuBERT-base
built from its config with random weights (bf16, as `voicemood run` loads it): the cost of a
forward pass does not depend on the weights. `--model compact` times the compact CNN with random
weights, i.e. what the bundled model will cost once trained. The process re-executes itself with
the tuned glibc allocator, as the CLI does. Targets for (b): p50 <= 0.3 s, p95 <= 0.6 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hubert_folder import TINY, write_hubert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.runtime import with_tuned_allocator  # noqa: E402
from tests.fakes.telegram import Call, FakeTelegram, make_user, private_chat  # noqa: E402

SR = 16_000
SHARED_DATA = ROOT.parent / "shared" / "data"
TARGET_P50_S, TARGET_P95_S = 0.3, 0.6


@dataclass
class Run:
    baseline_s: list[float] = field(default_factory=list)
    telegram_s: list[float] = field(default_factory=list)
    burst_answered: int = 0
    burst_busy: int = 0
    burst_other: int = 0
    burst_lost: int = 0
    burst_wall_s: float = 0.0
    # Each answered burst note's time from the burst's start to its answer.
    burst_latency_s: list[float] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--notes", type=int, default=50, help="sequential notes per run")
    parser.add_argument("--burst", type=int, default=200, help="notes sent at once per run")
    parser.add_argument("--users", type=int, default=50, help="people sending the burst")
    parser.add_argument(
        "--model", default="auto", help="auto, base, compact, tiny or a model folder"
    )
    args = parser.parse_args()
    tuned = with_tuned_allocator(os.environ)
    if tuned is not None:
        tuned |= {"TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
        os.execve(sys.executable, [sys.executable, *sys.argv], tuned)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_bench(args))


async def _bench(args: argparse.Namespace) -> None:
    from bots.core.service import VoiceMoodService
    from bots.i18n import t
    from bots.telegram.app import start_telegram
    from inference.analysis import AnalysisConfig, Analyzer
    from inference.labels import CANONICAL_LABELS
    from inference.worker import InferenceWorker, WorkerConfig
    from storage.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as tmp:
        folder = Path(tmp)
        model, model_name = _model(args.model, folder)
        notes, source = _voice_notes(folder, count=10)
        worker = InferenceWorker(model, WorkerConfig())  # the Settings defaults: queue 64, batch 4
        analyzer = Analyzer(worker, AnalysisConfig())
        store = await Store.open(folder / "db.sqlite3", folder / "data", labels=CANONICAL_LABELS)
        users = [make_user(5000 + i, f"User {i}") for i in range(args.users)]
        busy_text = t("en", "error.busy")
        print(f"model: {model_name}; notes: 5 s OGG/Opus from {source}; CPUs: {os.cpu_count()}")
        async with worker, store, FakeTelegram() as fake:
            service = VoiceMoodService(analyzer, store)
            bot = await start_telegram(
                service,
                fake.token,
                api_base=f"{fake.base_url}/bot",
                file_base=f"{fake.base_file_url}/file/bot",
                poll_timeout_s=10,
            )
            try:
                for i in range(3):  # warm-up: first forward passes, first connections
                    await analyzer.analyse(notes[i])
                    await _one_note(fake, users[0], notes[i])
                runs = []
                for run in range(args.runs):
                    result = Run()
                    for i in range(args.notes):
                        note, user = notes[i % len(notes)], users[i % len(users)]
                        start = time.monotonic()
                        await analyzer.analyse(note)
                        result.baseline_s.append(time.monotonic() - start)
                        result.telegram_s.append(await _one_note(fake, user, note))
                    await _burst(fake, users, notes, args.burst, busy_text, result)
                    runs.append(result)
                    print(f"  run {run + 1}/{args.runs} done", file=sys.stderr)
            finally:
                await bot.stop()
        _report(runs, args, worker.stats.largest_batch)


async def _one_note(fake: FakeTelegram, user: dict[str, Any], ogg: bytes) -> float:
    """Seconds from injecting one voice note to the fake receiving the bot's answer to it."""
    since = len(fake.sent)
    start = time.monotonic()
    update = fake.send_voice(private_chat(user), user, ogg, duration=5)
    answer = await fake.wait_for(_reply_to(update["message"]), timeout=60, since=since)
    return float(answer.time - start)


async def _burst(
    fake: FakeTelegram,
    users: list[dict[str, Any]],
    notes: list[bytes],
    count: int,
    busy_text: str,
    result: Run,
) -> None:
    """`count` notes from all users at once; waits until each has an answer (or 300 s passed)."""
    since = len(fake.sent)
    start = time.monotonic()
    messages = []
    for i in range(count):
        user = users[i % len(users)]
        sent = fake.send_voice(private_chat(user), user, notes[i % len(notes)], duration=5)
        messages.append(sent["message"])
    wanted = {(m["chat"]["id"], m["message_id"]) for m in messages}
    answers: dict[tuple[int, int] | None, Call] = {}
    deadline = start + 300
    while len(answers) < count and time.monotonic() < deadline:
        try:
            call = await fake.wait_for(
                lambda c: _key(c) in wanted and _key(c) not in answers,
                timeout=deadline - time.monotonic(),
                since=since,
            )
        except TimeoutError:
            break
        answers[_key(call)] = call
    result.burst_wall_s = max((c.time for c in answers.values()), default=start) - start
    result.burst_latency_s = sorted(c.time - start for c in answers.values())
    for call in answers.values():
        text = call.params.get("text", "")
        if "reply_markup" in call.params:
            result.burst_answered += 1
        elif text == busy_text:
            result.burst_busy += 1
        else:
            result.burst_other += 1
    result.burst_lost = count - len(answers)


def _reply_to(message: dict[str, Any]) -> Callable[[Call], bool]:
    key = (message["chat"]["id"], message["message_id"])
    return lambda call: call.method == "sendMessage" and _key(call) == key


def _key(call: Call) -> tuple[int, int] | None:
    if call.method != "sendMessage":
        return None
    quoted = call.params.get("reply_parameters") or {}
    return (int(call.params.get("chat_id", 0)), int(quoted.get("message_id", 0)))


def _report(runs: list[Run], args: argparse.Namespace, largest_batch: int) -> None:
    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20, method="inclusive")[18]

    def cell(values: list[float], unit: str = " s") -> str:
        return f"{statistics.median(values):.3f}{unit} ({min(values):.3f}-{max(values):.3f})"

    base_p50 = [statistics.median(r.baseline_s) for r in runs]
    base_p95 = [p95(r.baseline_s) for r in runs]
    tg_p50 = [statistics.median(r.telegram_s) for r in runs]
    tg_p95 = [p95(r.telegram_s) for r in runs]
    ratio = statistics.median(t / b for t, b in zip(tg_p50, base_p50, strict=True))
    overhead = statistics.median(t - b for t, b in zip(tg_p50, base_p50, strict=True))
    rows = [
        ("(a) analyse() directly, p50", cell(base_p50), "", ""),
        ("(a) analyse() directly, p95", cell(base_p95), "", ""),
        (
            "(b) through Telegram, p50",
            cell(tg_p50),
            f"{ratio:.2f}x (a), +{overhead * 1000:.0f} ms",
            _verdict(statistics.median(tg_p50), TARGET_P50_S),
        ),
        (
            "(b) through Telegram, p95",
            cell(tg_p95),
            "",
            _verdict(statistics.median(tg_p95), TARGET_P95_S),
        ),
    ]
    burst = f"(c) burst of {args.burst} from {args.users} users"
    rows += [
        (f"{burst}: answered", _counts([r.burst_answered for r in runs]), "", ""),
        (f"{burst}: 'busy'", _counts([r.burst_busy for r in runs]), "", ""),
        (f"{burst}: other reply", _counts([r.burst_other for r in runs]), "", ""),
        (
            f"{burst}: lost",
            _counts([r.burst_lost for r in runs]),
            "",
            "ok" if all(r.burst_lost == 0 for r in runs) else "LOST",
        ),
        (f"{burst}: last answer after", cell([r.burst_wall_s for r in runs]), "", ""),
        ("largest worker batch", str(largest_batch), "", ""),
        # The bot, the model and the fake server; ffmpeg children are short-lived and small.
        ("peak RSS, this process", f"{_peak_rss_mib():.0f} MiB", "", ""),
    ]
    header = (
        f"median of {len(runs)} runs (min-max)",
        f"{args.notes} notes per run",
        "vs (a)",
        "target",
    )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def _counts(values: list[int]) -> str:
    return f"{statistics.median(values):.0f} ({min(values)}-{max(values)})"


def _verdict(value: float, target: float) -> str:
    return f"<= {target} s: {'met' if value <= target else 'MISSED'}"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _model(spec: str, folder: Path) -> tuple[Any, str]:
    from inference.models import BUNDLED_DIR, HEAD_MARKER, load_model

    if spec == "auto" and (BUNDLED_DIR / HEAD_MARKER).is_file():
        return load_model(None), f"the default Whisper head ({BUNDLED_DIR})"
    if spec in ("auto", "base"):
        path = write_hubert(folder / "hubert-base")
        return load_model(str(path), precision="bf16"), "HuBERT-base config, random weights, bf16"
    if spec == "compact":
        path = _build_compact(folder / "compact")
        return load_model(str(path)), "compact CNN (default NetConfig), random weights, fp32"
    if spec == "tiny":
        path = write_hubert(folder / "hubert-tiny", size=TINY)
        return load_model(str(path)), "tiny HuBERT (2 layers, width 32), fp32"
    return load_model(spec, precision="bf16"), f"{spec} (bf16)"


def _build_compact(folder: Path) -> Path:
    """The project's compact model with random weights, saved as a bundled model would be."""
    import torch

    from inference.features import FeatureConfig
    from inference.labels import CANONICAL_LABELS
    from inference.models.compact import CompactNet, ModelCard, save_model

    torch.manual_seed(0)
    labels = tuple(label for label in CANONICAL_LABELS if label != "other")
    card = ModelCard(labels=labels, version="bench-random")
    net = CompactNet(FeatureConfig().n_mels, len(labels), card.net)
    return save_model(net.eval(), card, folder)


def _voice_notes(folder: Path, count: int) -> tuple[list[bytes], str]:
    """`count` different 5 s voice notes encoded as Telegram does (OGG/Opus 48 kHz)."""
    import soundfile as sf

    from inference.audio import find_ffmpeg

    stream, source = _speech(np.random.default_rng(0))
    ffmpeg = find_ffmpeg()
    notes = []
    for i in range(count):
        clip = stream[i * 5 * SR : (i + 1) * 5 * SR]
        wav, ogg = folder / f"note{i}.wav", folder / f"note{i}.ogg"
        sf.write(wav, clip, SR, subtype="PCM_16")
        subprocess.run(
            [
                ffmpeg,
                "-y",
                "-i",
                str(wav),
                "-c:a",
                "libopus",
                "-b:a",
                "24k",
                "-ar",
                "48000",
                str(ogg),
            ],
            check=True,
            capture_output=True,
        )
        notes.append(ogg.read_bytes())
    return notes, source


def _speech(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A minute of speech: RAVDESS recordings back to back when ../shared/data has them."""
    metadata = SHARED_DATA / "ravdess" / "metadata.csv"
    if metadata.is_file():
        import soundfile as sf

        with open(metadata, newline="") as f:
            paths = sorted(row["path"] for row in csv.DictReader(f))
        chosen = rng.choice(paths, size=25, replace=False)
        parts = [sf.read(SHARED_DATA / "ravdess" / p, dtype="float32")[0] for p in chosen]
        return np.concatenate(parts), "RAVDESS speech"
    from tests.audio_factory import speechlike

    return speechlike(60.0), "a synthetic voice (no ../shared/data)"


if __name__ == "__main__":
    main()
