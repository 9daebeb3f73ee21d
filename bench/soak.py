"""Soak: thousands of voice notes through `voicemood run`'s wiring; does resident memory grow?

    python bench/soak.py [--notes 2000] [--users 100] [--concurrency 16] [--warmup-s 30]

`voicemood run` runs as a child process (it re-executes itself with the tuned glibc allocator)
with Telegram pointed at the fake Bot API (tests/fakes), which lives in this process: the fake
keeps every file and message it saw, so its memory must not be counted as the bot's. Storage is a
temporary SQLite file; the model is the default one `voicemood run` loads with no VOICEMOOD_MODEL
(the bundled Whisper head), else the bundled compact CNN, else a tiny HuBERT built from a config
(as the tests do), and the chart's title names which.
Notes (2-6 s OGG/Opus, a few distinct recordings) come from `--users` users, at most
`--concurrency` unanswered at a time. The child's resident memory (/proc/PID/statm) is sampled
every second;
after the warm-up a least-squares line over RSS(t) gives the growth in MB per minute and per 1,000
notes. The curve is written to bench/out/soak_rss.png.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hubert_folder import TINY, write_hubert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram import FakeTelegram, make_user, private_chat  # noqa: E402

OUT = ROOT / "bench" / "out"
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Soak:
    model: str
    notes: int
    answered: int
    seconds: float
    times_s: np.ndarray
    rss_mb: np.ndarray
    warmup_s: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup-s", type=float, default=30.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    soak = asyncio.run(run_soak(args.notes, args.users, args.concurrency, args.warmup_s))
    _report(soak)


async def run_soak(notes: int, users: int, concurrency: int, warmup_s: float) -> Soak:
    """Send `notes` voice notes and sample the bot's RSS every second until all are answered."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, name = _model(folder)
        recordings = _recordings(folder)
        async with FakeTelegram() as fake:
            env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEMOOD_")}
            if model is not None:
                env["VOICEMOOD_MODEL"] = model
            env.update(
                VOICEMOOD_DATA_DIR=str(folder / "data"),
                VOICEMOOD_TELEGRAM_TOKEN=fake.token,
                VOICEMOOD_TELEGRAM_API_BASE=f"{fake.base_url}/bot",
                VOICEMOOD_TELEGRAM_FILE_BASE=f"{fake.base_file_url}/file/bot",
                VOICEMOOD_WEB_ENABLED="false",
            )
            bot = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "voicemood", "run", "--log-level", "WARNING",
                env=env, cwd=folder,
            )  # fmt: skip
            try:
                await fake.wait_for("getUpdates", timeout=120)
                people = [make_user(10_000 + i, f"Soak {i}") for i in range(users)]
                times: list[float] = []
                rss: list[float] = []
                start = time.monotonic()
                sampler = asyncio.create_task(_sample(bot.pid, times, rss, start))
                answered = await _send_all(fake, people, recordings, notes, concurrency)
                seconds = time.monotonic() - start
                sampler.cancel()
            finally:
                bot.terminate()
                await bot.wait()
    return Soak(name, notes, answered, seconds, np.array(times), np.array(rss), warmup_s)


async def _send_all(
    fake: FakeTelegram,
    people: list[dict[str, object]],
    recordings: list[tuple[bytes, float]],
    notes: int,
    concurrency: int,
) -> int:
    """Keep at most `concurrency` notes unanswered; count answers (tone or a polite refusal)."""
    answered = 0
    for i in range(notes):
        if i - answered >= concurrency:
            answered = await _wait_for_answers(fake, i - concurrency + 1)
        person = people[i % len(people)]
        data, seconds = recordings[i % len(recordings)]
        fake.send_voice(private_chat(person), person, data, seconds)
    return await _wait_for_answers(fake, notes)


async def _wait_for_answers(fake: FakeTelegram, at_least: int) -> int:
    while True:
        since = len(fake.sent)
        count = _answers(fake)
        if count >= at_least:
            return count
        await fake.wait_for("sendMessage", timeout=120, since=since)


def _answers(fake: FakeTelegram) -> int:
    return sum(1 for call in fake.calls("sendMessage") if call.params.get("text"))


async def _sample(pid: int, times: list[float], rss: list[float], start: float) -> None:
    while True:
        times.append(time.monotonic() - start)
        rss.append(_rss_mb(pid))
        await asyncio.sleep(1.0)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def _model(folder: Path) -> tuple[str | None, str]:
    """VOICEMOOD_MODEL for the bot (None: its default) and the model's name for the report."""
    from inference.models import BUNDLED_DIR, COMPACT_DIR, COMPACT_MARKER, HEAD_MARKER

    if (BUNDLED_DIR / HEAD_MARKER).is_file():
        return None, "bundled Whisper head"
    if (COMPACT_DIR / COMPACT_MARKER).is_file():
        return "compact", "bundled compact CNN"
    return str(write_hubert(folder / "tiny-hubert", size=TINY)), "tiny HuBERT (no bundled model)"


def _recordings(folder: Path) -> list[tuple[bytes, float]]:
    """A few real OGG/Opus notes of different lengths and voices."""
    from inference.audio import find_ffmpeg
    from tests.audio_factory import encode, speechlike

    ffmpeg = find_ffmpeg()
    notes = []
    for seed, seconds in enumerate((2.0, 3.5, 5.0, 6.0)):
        path = encode(ffmpeg, speechlike(seconds, seed=seed), folder / f"note{seed}.ogg")
        notes.append((path.read_bytes(), seconds))
    return notes


def _report(soak: Soak) -> None:
    after = soak.times_s >= soak.warmup_s
    if after.sum() < 5:
        after = soak.times_s >= soak.times_s.max() / 3  # a short run: drop the first third
    slope_s, _ = np.polyfit(soak.times_s[after], soak.rss_mb[after], 1)
    per_note_s = soak.seconds / soak.notes
    print(f"model                 {soak.model}")
    print(f"notes answered        {soak.answered} / {soak.notes} in {soak.seconds:.0f} s")
    print(f"RSS start / peak / end {soak.rss_mb[0]:.0f} / {soak.rss_mb.max():.0f} / "
          f"{soak.rss_mb[-1]:.0f} MB")  # fmt: skip
    print(f"RSS slope after {soak.times_s[after][0]:.0f} s: {slope_s * 60:+.2f} MB/min, "
          f"{slope_s * per_note_s * 1000:+.2f} MB per 1,000 notes")  # fmt: skip
    # One allocator step (a new arena, a bigger buffer) tilts a line over the whole run; a
    # leak keeps climbing in the last half as well.
    late = soak.times_s >= (soak.times_s[after][0] + soak.times_s.max()) / 2
    if late.sum() >= 5:
        late_slope_s, _ = np.polyfit(soak.times_s[late], soak.rss_mb[late], 1)
        print(f"RSS slope, last half:  {late_slope_s * 60:+.2f} MB/min")
    OUT.mkdir(parents=True, exist_ok=True)
    figure = _plot(soak, slope_s)
    print(f"curve                 {figure}")


def _plot(soak: Soak, slope_s: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(soak.times_s, soak.rss_mb, lw=1, label="RSS")
    ax.axvline(soak.warmup_s, color="grey", ls=":", label="end of warm-up")
    ax.set_xlabel("seconds")
    ax.set_ylabel("resident memory (MB)")
    ax.set_title(f"{soak.notes} notes, {soak.model}: {slope_s * 60:+.2f} MB/min after warm-up")
    ax.legend()
    path = OUT / "soak_rss.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
