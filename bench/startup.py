"""How long `voicemood classify` takes for one file, cold and warm, and for a missing file.

    python bench/startup.py [--runs 5] [--note FILE] [--before DIR]

Each case is a fresh `python -m voicemood classify` process, timed from outside. "Warm" runs
straight after another run; "cold" first drops this machine's cached pages of the Python
packages, the checkout and the model cache (posix_fadvise DONTNEED, no root needed), as after
a reboot. `python -c pass` is the floor every Python command pays. With `--before DIR` (another
checkout, e.g. `git worktree add /tmp/before main`) the same cases run against that code in the
same rounds, interleaved, so the ratio is measured under the same load. The note defaults to a
synthetic 3 s voice-like WAV. Not a test: a test never asserts a timing.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--note", type=Path, help="an audio file (default: a synthetic 3 s WAV)")
    parser.add_argument("--before", type=Path, help="another checkout to compare against")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        note = args.note or _synthetic_note(Path(folder) / "note.wav")
        missing = Path(folder) / "no-such-note.ogg"
        checkouts = {"this": ROOT, **({"before": args.before.resolve()} if args.before else {})}
        cases: dict[str, list[str]] = {"python -c pass": [sys.executable, "-c", "pass"]}
        runs: dict[str, Path | None] = {"python -c pass": None}
        for name, checkout in checkouts.items():
            for what, target in (("one file", note), ("missing file", missing)):
                key = f"{name}: classify {what}"
                cases[key] = [sys.executable, "-m", "voicemood", "classify", str(target)]
                runs[key] = checkout
        cold: dict[str, list[float]] = {key: [] for key in cases}
        warm: dict[str, list[float]] = {key: [] for key in cases}
        for _ in range(args.runs):
            for key, command in cases.items():
                _evict([*checkouts.values(), *_package_dirs(), _model_cache()])
                cold[key].append(_time(command, runs[key]))
                warm[key].append(_time(command, runs[key]))
    floor = statistics.median(warm["python -c pass"])
    print("| case | cold s | warm s | warm vs `python -c pass` | warm vs before |")
    print("|---|---|---|---|---|")
    for key in cases:
        c, w = statistics.median(cold[key]), statistics.median(warm[key])
        before_key = key.replace("this:", "before:")
        versus = (
            f"{w / statistics.median(warm[before_key]):.2f}x"
            if key.startswith("this:") and before_key in warm
            else ""
        )
        print(f"| {key} | {c:.2f} | {w:.2f} | {w / floor:.1f}x | {versus} |")
    print(
        f"(median of {args.runs} runs each; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})"
    )


def _time(command: list[str], checkout: Path | None) -> float:
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)  # ahead of the editable install's finder
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, env=env, cwd=checkout or ROOT)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr.decode(errors='replace')}")
    return elapsed


def _evict(folders: list[Path]) -> None:
    """Drop the page cache of every file under `folders` (clean pages only; no root needed)."""
    for folder in folders:
        for dirpath, _, names in os.walk(folder):
            for name in names:
                try:
                    fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def _package_dirs() -> list[Path]:
    paths = sysconfig.get_paths()
    return [Path(paths["purelib"]), Path(paths["stdlib"])]


def _model_cache() -> Path:
    return Path("~/.cache/voicemood").expanduser()


def _synthetic_note(path: Path, seconds: float = 3.0, rate: int = 16000) -> Path:
    """A voice-like tone: a gliding 120-220 Hz pitch with harmonics, in syllable-like bursts."""
    rng = random.Random(0)
    frames = bytearray()
    phase = 0.0
    for i in range(int(seconds * rate)):
        t = i / rate
        phase += 2 * math.pi * (170 + 50 * math.sin(2 * math.pi * 0.7 * t)) / rate
        envelope = max(0.0, math.sin(2 * math.pi * 4 * t)) ** 0.5
        voice = sum(math.sin(k * phase) / k for k in range(1, 6))
        sample = 0.25 * envelope * voice + 0.01 * rng.uniform(-1, 1)
        frames += struct.pack("<h", int(max(-1.0, min(1.0, sample)) * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


if __name__ == "__main__":
    main()
