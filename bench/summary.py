"""How long a group summary of 10,000 stored notes takes, stage by stage, against 100 notes.

    python bench/summary.py [--notes 10000] [--runs 5]

Fills a fresh SQLite store with one group chat of `--notes` notes from 12 members, then times
what VoiceMoodService.summary does: read the notes (store.notes.chat_notes), aggregate (summarise),
word it (render_summary_text) and draw the PNG (render_chart). The baseline, measured in the same
run, is the same path over 100 notes, so the ratio shows what the size costs.
Target (storage issue): under 1 s for 10,000 notes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Python puts this folder first on the path, where bench/storage.py would shadow the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from bots.charts.summary import render_chart  # noqa: E402
from bots.summary import MoodNote, render_summary_text, summarise  # noqa: E402
from inference.labels import CANONICAL_LABELS  # noqa: E402
from storage.store import Store  # noqa: E402

MOODS = ("happy", "calm", "neutral", "sad", "angry")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in (100, args.notes):
            store = await _filled_store(Path(folder) / f"{size}", size)
            async with store:
                chat = await store.people.ensure_chat("telegram", "-1", "group")
                timings = [await _one_summary(store, chat) for _ in range(args.runs)]
            medians = {k: statistics.median(t[k] for t in timings) for k in timings[0]}
            rows.append((size, medians))
    base = rows[0][1]["total"]
    print("| notes | read s | summarise s | text s | chart s | total s | vs 100 notes |")
    print("|---|---|---|---|---|---|---|")
    for size, m in rows:
        print(
            f"| {size:,} | {m['read']:.3f} | {m['summarise']:.3f} | {m['text']:.4f} | "
            f"{m['chart']:.3f} | {m['total']:.3f} | {m['total'] / base:.2f}x |"
        )
    print(f"(median of {args.runs} runs each)")


async def _one_summary(store: Store, chat) -> dict[str, float]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    notes = await store.notes.chat_notes(chat, since=datetime.now(UTC) - timedelta(days=7))
    t1 = time.perf_counter()
    summary = summarise(
        [
            MoodNote(n.created_at, n.person.display_name or "?", n.label, n.probabilities)
            for n in notes
        ],
        "this week",
    )
    t2 = time.perf_counter()
    render_summary_text(summary, "en")
    t3 = time.perf_counter()
    render_chart(summary, "en")
    t4 = time.perf_counter()
    assert summary.count == len(notes)
    return {
        "read": t1 - t0,
        "summarise": t2 - t1,
        "text": t3 - t2,
        "chart": t4 - t3,
        "total": t4 - t0,
    }


async def _filled_store(folder: Path, size: int) -> Store:
    store = await Store.open(folder / "db.sqlite3", folder / "data", labels=CANONICAL_LABELS)
    chat = await store.people.ensure_chat("telegram", "-1", "group")
    members = [
        await store.people.ensure_person("telegram", str(i), display_name=f"member{i}")
        for i in range(12)
    ]
    for member in members:
        await store.consent.give(member, "analyse", chat)
    start = datetime.now(UTC) - timedelta(days=6)
    for i in range(size):
        mood = MOODS[(i * 7 + i // 500) % len(MOODS)]
        probs = {m: 0.05 for m in MOODS}
        probs[mood] = 0.8
        await store.notes.add(
            members[i % 12],
            chat,
            message_id=i,
            duration_s=3.0,
            model="bench",
            label=mood,
            confidence=0.8,
            probabilities=probs,
            at=start + timedelta(seconds=50 * i),
        )
    return store


if __name__ == "__main__":
    asyncio.run(main())
