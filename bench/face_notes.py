"""What a video note costs the bot's answer, with and without /face on (bots.core.notes).

    python bench/face_notes.py [--runs 5] [--seconds 10] [--size 384]

One note of `--seconds` of speech (RAVDESS clips when ../shared/data is here, else a speech-like
signal) sent three ways through the service, as a private chat's note, with the default model:
as an OGG voice note (the baseline), as an mp4 round video note (a real face photo moving across
H.264 frames of `--size` pixels) with /face off, where only its sound is heard, and with /face on,
where its frames (3 a second) are read on the face thread beside the voice; and that face reading
by itself, for comparison. The runs alternate,
in the same process, and the table shows the median of `--runs` of each, its ratio to the voice
note and the seconds added; then how much the process grew (resident MiB) when the face model
first loaded (with glibc's allocator as it comes: the tuned one keeps freed memory resident).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from samples import speech

# Python puts this folder first on the path, where bench/storage.py would shadow the storage
# package: take it off before importing the project.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=384, help="video side in pixels")
    args = parser.parse_args()
    asyncio.run(_bench(args.runs, args.seconds, args.size))


async def _bench(runs: int, seconds: float, size: int) -> None:
    from bots.core.service import VoiceMoodService
    from bots.core.values import User, VoiceNote, Where
    from inference.analysis import Analyzer
    from inference.audio import find_ffmpeg
    from inference.models import load_model
    from inference.worker import InferenceWorker
    from storage.store import Store
    from tests import audio_factory, face_factory

    ffmpeg = find_ffmpeg()
    voice = speech()[: int(seconds * audio_factory.SR)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ogg = audio_factory.encode(ffmpeg, voice, folder / "note.ogg").read_bytes()
        mp4 = face_factory.moving_photo_video(
            ffmpeg,
            face_factory.hopper(),
            folder / "note.mp4",
            seconds=seconds,
            voice=voice,
            side=size,
        ).read_bytes()
        store = await Store.open(folder / "db.sqlite3", folder / "data")
        worker = InferenceWorker(load_model(None))
        await worker.start()
        try:
            service = VoiceMoodService(Analyzer(worker), store)
            plain = User("bench", "1", "Plain")
            facing = User("bench", "2", "Facing")
            await service.on_command(facing, Where("bench", facing.id, False), "face", ["on"])
            counter = iter(range(1_000_000))

            async def answer(user: User, data: bytes, video: bool) -> float:
                async def fetch() -> bytes:
                    return data

                suffix = "mp4" if video else "ogg"
                note = VoiceNote(str(next(counter)), fetch, len(data), suffix, video)
                started = time.perf_counter()
                reply = await service.on_voice(user, Where("bench", user.id, False), note)
                took = time.perf_counter() - started
                assert reply is not None and "error" not in reply.text.lower(), reply
                return took

            await answer(plain, ogg, False)  # warm-up: the model's first pass
            await answer(plain, mp4, True)
            before = _rss_mib()
            first = await answer(facing, mp4, True)  # loads the face model
            grown = _rss_mib() - before
            times: dict[str, list[float]] = {"voice": [], "video": [], "face": [], "alone": []}
            for _ in range(runs):
                times["voice"].append(await answer(plain, ogg, False))
                times["video"].append(await answer(plain, mp4, True))
                times["face"].append(await answer(facing, mp4, True))
                started = time.perf_counter()
                service.faces.reader.read_now(mp4)
                times["alone"].append(time.perf_counter() - started)
        finally:
            await worker.close()
            await store.close()
    base = statistics.median(times["voice"])
    print(f"| {seconds:g} s note, median of {runs} | answer s | ratio | added s |")
    print("|---|---|---|---|")
    for name, label in (
        ("voice", "OGG voice note"),
        ("video", f"{size} px video note, /face off"),
        ("face", f"{size} px video note, /face on"),
        ("alone", "its face reading alone (frames + detector + network)"),
    ):
        median = statistics.median(times[name])
        print(f"| {label} | {median:.3f} | {median / base:.2f} | {median - base:+.3f} |")
    print()
    print(f"first face reading (loads the model): {first:.3f} s; resident memory +{grown:.1f} MiB")


def _rss_mib() -> float:
    """This process's resident memory (VmRSS), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
