"""Answer latency and burst behaviour of the Discord adapter, end to end through the fake Discord.

    python bench/discord_latency.py [--model auto|tiny|base|PATH] [--notes 50] [--burst 200]

The real discord.py client (bots/discord/app.start_discord) connects to tests/fakes/discord.py on
127.0.0.1, with a real SQLite store and the shared worker over the model:
  auto  the bundled compact model when inference/models/bundled/ has one, else HuBERT-base;
  base  HuBERT-base from its default config with random weights (the cost does not depend on
        them), saved and loaded through the real loading code in bf16, as production runs it;
  tiny  the test suite's tiny HuBERT (for a quick check of the plumbing only).
(a) Latency: a 5 s OGG/Opus voice note, from the injected MESSAGE_CREATE to the reply the fake
    records, over --notes notes; the baseline is service.on_voice on the same bytes without
    Discord, interleaved note by note, so the ratio is what the adapter and gateway add.
(b) Burst: --burst voice notes from 50 users at once; every note must get an answer or the
    polite "busy" reply, none lost. The event loop's worst lag is measured meanwhile.
The fake runs in the same process and event loop as the bot, so its own work is in the numbers.
The process re-executes itself with the tuned glibc allocator, as `voicemood` does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubert_folder import TINY, write_hubert

# The fake Discord lives with the tests, which are not an installed package.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bots.core.service import VoiceMoodService  # noqa: E402
from bots.core.values import User as ServiceUser  # noqa: E402
from bots.core.values import VoiceNote, Where  # noqa: E402
from bots.discord.app import start_discord  # noqa: E402
from bots.i18n import t  # noqa: E402
from inference.analysis import AnalysisConfig, Analyzer  # noqa: E402
from inference.audio import find_ffmpeg  # noqa: E402
from inference.labels import CANONICAL_LABELS  # noqa: E402
from inference.models import BUNDLED_DIR, HEAD_MARKER, load_model  # noqa: E402
from inference.runtime import with_tuned_allocator  # noqa: E402
from inference.worker import InferenceWorker, WorkerConfig  # noqa: E402
from storage.store import Store  # noqa: E402
from tests import audio_factory  # noqa: E402
from tests.fakes.discord import FAKE_TOKEN, Call, FakeDiscord  # noqa: E402

NOTE_S = 5.0
USERS = 50
TARGET_P50_S = 0.3
TARGET_P95_S = 0.6


@dataclass
class BurstResult:
    sent: int
    answered: int
    busy: int
    other: int
    seconds: float
    worst_lag_s: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="auto", help="auto, tiny, base, or a model folder")
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    tuned = with_tuned_allocator(os.environ)
    if tuned is not None:
        os.execve(sys.executable, [sys.executable, *sys.argv], tuned)
    with tempfile.TemporaryDirectory(prefix="bench-discord-") as tmp:
        asyncio.run(_bench(args, Path(tmp)))


async def _bench(args: argparse.Namespace, tmp: Path) -> None:
    spec, described = _model(args.model, tmp)
    model = load_model(spec, precision="bf16")
    ffmpeg = find_ffmpeg()
    notes = [
        audio_factory.encode(
            ffmpeg, audio_factory.speechlike(NOTE_S, seed=i), tmp / f"note{i}.ogg"
        ).read_bytes()
        for i in range(8)
    ]
    store = await Store.open(tmp / "db.sqlite3", tmp / "data", labels=CANONICAL_LABELS)
    async with FakeDiscord() as fake, InferenceWorker(model, WorkerConfig()) as worker:
        service = VoiceMoodService(Analyzer(worker, AnalysisConfig(ffmpeg=ffmpeg)), store)
        handle = await start_discord(
            service,
            FAKE_TOKEN,
            api_base=fake.rest_base,
            gateway=fake.gateway_url,
            guild_ready_timeout=0.1,
        )
        try:
            users = [fake.add_user(f"speaker{i}") for i in range(USERS)]
            for note in notes[:3]:  # warm-up: first forward passes, first SQLite pages
                await _through_discord(fake, users[0], note)
            direct, discord_s = [], []
            for i in range(args.notes):
                note = notes[i % len(notes)]
                direct.append(await _directly(service, i, note))
                discord_s.append(await _through_discord(fake, users[i % USERS], note))
            rss_before_burst = _peak_rss_mib()
            burst = await _burst(fake, users, notes, args.burst)
        finally:
            await handle.stop()
    await store.close()
    _report(described, direct, discord_s, burst, rss_before_burst)


def _model(choice: str, tmp: Path) -> tuple[str | None, str]:
    if choice == "auto":
        if (BUNDLED_DIR / HEAD_MARKER).is_file():
            return None, "the default Whisper head"
        choice = "base"
    if choice == "base":
        return str(write_hubert(tmp / "hubert-base")), (
            "HuBERT-base config, random weights, bf16 (no bundled model in this checkout)"
        )
    if choice == "tiny":
        return str(write_hubert(tmp / "hubert-tiny", size=TINY)), "tiny HuBERT (plumbing only)"
    return choice, choice


async def _directly(service: VoiceMoodService, i: int, data: bytes) -> float:
    """service.on_voice on the bytes, as an adapter would call it, without Discord."""

    async def fetch() -> bytes:
        return data

    user = ServiceUser("bench", "direct", "direct")
    start = time.perf_counter()
    reply = await service.on_voice(user, Where("bench", "direct", False), VoiceNote(str(i), fetch))
    assert reply is not None and reply.note_id is not None, reply
    return time.perf_counter() - start


async def _through_discord(fake: FakeDiscord, user: Any, data: bytes) -> float:
    """From the injected MESSAGE_CREATE to the bot's reply arriving at the fake."""
    dm = fake.dm_channel(user)
    start = time.perf_counter()
    sent = await fake.send_voice_message(dm, user, data, NOTE_S)
    await fake.wait_for(_reply_to(sent["id"]), timeout=60)
    return time.perf_counter() - start


async def _burst(
    fake: FakeDiscord, users: list[Any], notes: list[bytes], count: int
) -> BurstResult:
    loop = asyncio.get_running_loop()
    worst = 0.0

    async def watch_lag() -> None:
        nonlocal worst
        while True:
            start = loop.time()
            await asyncio.sleep(0.05)
            worst = max(worst, loop.time() - start - 0.05)

    watcher = asyncio.create_task(watch_lag())
    start = time.perf_counter()
    sent = await asyncio.gather(
        *(
            fake.send_voice_message(
                fake.dm_channel(users[i % USERS]), users[i % USERS], notes[i % len(notes)], NOTE_S
            )
            for i in range(count)
        )
    )
    replies: list[Call] = []
    for message in sent:
        with contextlib.suppress(TimeoutError):  # counted as lost below
            replies.append(await fake.wait_for(_reply_to(message["id"]), timeout=600))
    seconds = time.perf_counter() - start
    watcher.cancel()
    busy_text = t("en", "error.busy")
    kinds = [_kind(call.json, busy_text) for call in replies]
    return BurstResult(
        sent=count,
        answered=kinds.count("answer"),
        busy=kinds.count("busy"),
        other=kinds.count("other"),
        seconds=seconds,
        worst_lag_s=worst,
    )


def _kind(body: Mapping[str, Any], busy_text: str) -> str:
    if body.get("components"):
        return "answer"
    description = (body.get("embeds") or [{}])[0].get("description")
    return "busy" if description == busy_text else "other"


def _reply_to(message_id: str) -> Any:
    def matches(call: Call) -> bool:
        if call.method != "POST" or not isinstance(call.json, dict):
            return False
        reference = call.json.get("message_reference") or {}
        return str(reference.get("message_id")) == message_id

    return matches


def _report(
    model: str,
    direct: list[float],
    discord_s: list[float],
    burst: BurstResult,
    rss_before_burst: float,
) -> None:
    d50, d95 = _percentiles(direct)
    p50, p95 = _percentiles(discord_s)
    print(f"\nModel: {model}; {len(discord_s)} notes of {NOTE_S:g} s OGG/Opus; {_cpu()}\n")
    print(f"{'path':38} {'p50 s':>8} {'p95 s':>8} {'target':>14}")
    print(f"{'service.on_voice, no Discord (baseline)':38} {d50:8.3f} {d95:8.3f} {'':>14}")
    target = f"<={TARGET_P50_S}/{TARGET_P95_S}"
    print(f"{'MESSAGE_CREATE -> reply via discord.py':38} {p50:8.3f} {p95:8.3f} {target:>14}")
    print(f"{'ratio (Discord / baseline)':38} {p50 / d50:8.2f} {p95 / d95:8.2f}")
    verdict = "met" if p50 <= TARGET_P50_S and p95 <= TARGET_P95_S else "NOT met"
    print(f"latency target {verdict}\n")
    lost = burst.sent - burst.answered - burst.busy - burst.other
    print(f"{'burst':38} {'value':>8}")
    for name, value in [
        (f"voice notes sent ({USERS} users)", burst.sent),
        ("answered", burst.answered),
        ("'busy' reply", burst.busy),
        ("other reply", burst.other),
        ("lost (no reply)", lost),
    ]:
        print(f"{name:38} {value:8d}")
    print(f"{'seconds until the last reply':38} {burst.seconds:8.1f}")
    print(f"{'worst event-loop lag, s':38} {burst.worst_lag_s:8.3f}")
    print(f"{'peak RSS before the burst, MiB':38} {rss_before_burst:8.0f}")
    print(f"{'peak RSS, MiB':38} {_peak_rss_mib():8.0f}")


def _percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return statistics.median(values), cuts[18]


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return f"{os.cpu_count()} CPUs"
    model = next(
        (line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line), ""
    )
    return f"{os.cpu_count()} CPUs {model}".strip()


if __name__ == "__main__":
    main()
