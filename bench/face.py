"""What reading faces costs, and how well the detector finds them.

    python bench/face.py [--runs 5] [--part detector|time|memory]

Videos are made here by the real ffmpeg from public-domain photos that installed packages ship
(tests/face_factory.py): Grace Hopper's portrait drifting across a 384 or 640 px square (as a
round video note), its face 26, 15 or 9 % of the frame's side, and two photos without a face
(a temple; a flower, in which the default cascade finds three "faces" at full size).

- detector: frames with a face found, of 30, and CPU ms per frame, for each frontal-face cascade
  the OpenCV wheel ships, run as inference.face runs it (a full scan, then following the face).
- time: a 10 s 640 px video note with a voice (30 frames at 3 a second): the face read alone
  (wall and CPU seconds, ffmpeg's child included), the voice's analysis alone (the default model)
  and both together as `classify` runs them; "added" is together minus voice alone, in one run.
  Medians of --runs, alternating. On a machine shared with other work, wall times grow and the
  CPU seconds are the steadier figure.
- memory: resident memory of a fresh process that has torch and numpy loaded (as the bot has),
  before and after loading the face model, and after reading the video.
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
import time
from pathlib import Path

# The repository first: bench/storage.py would otherwise stand in for the storage package.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import audio_factory  # noqa: E402
from tests.face_factory import china, hopper, moving_photo_video  # noqa: E402

CASCADES = (
    "haarcascade_frontalface_default.xml",
    "haarcascade_frontalface_alt.xml",
    "haarcascade_frontalface_alt2.xml",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--part", choices=("detector", "time", "memory"))
    args = parser.parse_args()
    from inference.audio import find_ffmpeg

    ffmpeg = find_ffmpeg()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the start\n")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if args.part in (None, "detector"):
            detector(ffmpeg, work)
        video = _talking_video(ffmpeg, work)
        if args.part in (None, "time"):
            timing(video, args.runs)
        if args.part in (None, "memory"):
            memory(video)


def detector(ffmpeg: str, work: Path) -> None:
    import sklearn

    from inference.face import FaceModel
    from inference.face.detector import FaceDetector
    from inference.face.frames import image_frame, video_frames

    flower = Path(sklearn.__file__).parent / "datasets" / "images" / "flower.jpg"
    videos = {
        "face 26% of 384 px": moving_photo_video(ffmpeg, hopper(), work / "a.mp4", seconds=10),
        "face 15% of 384 px": moving_photo_video(
            ffmpeg, hopper(), work / "b.mp4", seconds=10, photo_width=134
        ),
        "face 9% of 640 px": moving_photo_video(
            ffmpeg, hopper(), work / "c.mp4", seconds=10, side=640, photo_width=128
        ),
        "no face: temple": moving_photo_video(ffmpeg, china(), work / "d.mp4", seconds=10),
        "no face: flower": moving_photo_video(ffmpeg, flower, work / "e.mp4", seconds=10),
    }
    frames = {name: list(video_frames(path)) for name, path in videos.items()}
    print("Detector: frames with a face found (of 30), CPU ms per frame")
    print(f"{'video':<20}" + "".join(f"{c[19:-4]:>18}" for c in CASCADES))
    models = {c: FaceModel(detector=FaceDetector(c)) for c in CASCADES}
    for name, grey in frames.items():
        cells = []
        for cascade in CASCADES:
            started = time.process_time()
            reading = models[cascade].read_frames(grey)
            ms = 1000 * (time.process_time() - started) / len(grey)
            cells.append(f"{reading.frames_with_face:>3}/{reading.frames} {ms:>6.1f} ms")
        print(f"{name:<20}" + "".join(f"{cell:>18}" for cell in cells))
    photos = {"Hopper": hopper(), "temple": china(), "flower": flower}
    grey_photos = {name: image_frame(path) for name, path in photos.items()}
    print("\nPhotos (480 px): faces found; the Hopper face's reading from that cascade's box")
    print(f"{'cascade':<20}{'Hopper':>8}{'temple':>8}{'flower':>8}  reading of the Hopper face")
    for cascade, model in models.items():
        found = [len(model._detector.faces(grey)) for grey in grey_photos.values()]
        reading = model.read_frames([grey_photos["Hopper"]])
        print(
            f"{cascade[19:-4]:<20}"
            + "".join(f"{n:>8}" for n in found)
            + f"  {reading.label} {reading.confidence:.2f}"
        )
    print()


def _talking_video(ffmpeg: str, work: Path) -> Path:
    try:
        voice = audio_factory.spoken(10.0)
    except FileNotFoundError:  # no espeak-ng: a speech-like buzz the gate hears for a while
        voice = audio_factory.speechlike(10.0)
    return moving_photo_video(
        ffmpeg, hopper(), work / "note.mp4", seconds=10, voice=voice, side=640
    )


def timing(video: Path, runs: int) -> None:
    from inference.face import face_model, read_video
    from voicemood.settings import Settings
    from voicemood.wiring import build_analyzer

    face_model()
    analyzer = build_analyzer(Settings())

    async def measure() -> dict[str, list[float]]:
        times: dict[str, list[float]] = {"face": [], "face_cpu": [], "voice": [], "both": []}
        async with analyzer.worker:
            await analyzer.analyse(video)  # warm-up: first-call allocations
            read_video(video)
            for _ in range(runs):
                started, cpu = time.perf_counter(), _cpu_s()
                reading = await asyncio.to_thread(read_video, video)
                times["face"].append(time.perf_counter() - started)
                times["face_cpu"].append(_cpu_s() - cpu)
                started = time.perf_counter()
                await analyzer.analyse(video)
                times["voice"].append(time.perf_counter() - started)
                started = time.perf_counter()
                await asyncio.gather(analyzer.analyse(video), asyncio.to_thread(read_video, video))
                times["both"].append(time.perf_counter() - started)
        print(f"frames {reading.frames}, with a face {reading.frames_with_face}")
        return times

    times = asyncio.run(measure())
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"10 s 640 px video note, median of {runs} (seconds)")
    print(f"{'':<30}{'wall':>8}{'CPU':>8}")
    print(f"{'face read alone':<30}{median['face']:>8.3f}{median['face_cpu']:>8.3f}")
    print(f"{'voice alone (default model)':<30}{median['voice']:>8.3f}")
    print(f"{'voice and face together':<30}{median['both']:>8.3f}")
    added = median["both"] - median["voice"]
    print(f"{'added by the face':<30}{added:>8.3f}   ({median['both'] / median['voice']:.2f}x)")
    print(f"load average now {os.getloadavg()[0]:.1f}\n")


def _cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (ffmpeg)."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_MEMORY_CHILD = """
import json, sys
import numpy, torch
def rss():
    found = {}
    for line in open("/proc/self/status"):
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            found[name] = int(value.split()[0]) / 1024
    return found
steps = {"torch + numpy": rss()}
import cv2
steps["+ import cv2"] = rss()
from inference.face import face_model, read_video
face_model()
steps["+ face model loaded"] = rss()
read_video(sys.argv[1])
steps["+ one 10 s video read"] = rss()
for _ in range(3):
    read_video(sys.argv[1])
steps["+ three more reads"] = rss()
print(json.dumps(steps))
"""


def memory(video: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(video)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    steps = json.loads(done.stdout.strip().splitlines()[-1])
    base = steps["torch + numpy"]
    print("Resident memory (MiB) of a process with torch and numpy loaded, and what each step adds")
    print(f"{'':<24}{'RSS':>8}{'added':>8}{'private':>9}{'files':>8}")
    for step, rss in steps.items():
        added = {name: rss[name] - base[name] for name in rss}
        print(
            f"{step:<24}{rss['VmRSS']:>8.1f}{added['VmRSS']:>8.1f}"
            f"{added['RssAnon']:>9.1f}{added['RssFile']:>8.1f}"
        )
    print(
        "(private: the process's own memory; files: pages of shared libraries, shared and evictable)"
    )


if __name__ == "__main__":
    main()
