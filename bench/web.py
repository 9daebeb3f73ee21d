"""The web page's first load (bytes) and a 5 s recording's round trip through the HTTP API.

    python bench/web.py [--runs 7] [--model bundled|hubert-base|tiny|FOLDER ...]

First load: every file the page fetches before it can be used (HTML, CSS, JS, manifest and the
sentence catalogue), as a browser transfers them (gzip) and uncompressed; icons come later.
Round trip: a 5 s recording encoded as WebM/Opus (what Chrome's MediaRecorder sends) is POSTed to
/api/analyse on loopback, timed from the request to the parsed JSON, against the baseline measured
in the same run: `Analyzer.analyse` on the same bytes with no HTTP in between. Both go through
the same shared worker. Prints the median of --runs after one warm-up each.

Models: "bundled" (inference/models/bundled, when trained), "hubert-base" (HuBERT-base built from
its config with random weights and loaded in bf16: the production path's cost, not its answers),
"tiny" (the tests' tiny HuBERT: the server's own cost with nearly no model). Default: bundled when
present, else hubert-base and tiny. The recording is RAVDESS speech when ../shared/data is
present, else a synthetic voice. The process restarts itself with the tuned allocator, as
`voicemood` does.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import soundfile as sf
from hubert_folder import TINY, write_hubert

# Python puts this folder first on the path, where bench/storage.py would shadow the storage
# package: take it off before importing the project.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from inference.runtime import with_tuned_allocator  # noqa: E402

SR = 16_000
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PAGE_FILES = ("/", "/static/app.css", "/static/app.js", "/manifest.webmanifest", "/api/messages")
TARGET_S = 0.5
TARGET_BYTES = 200 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", action="append", help="bundled, hubert-base, tiny or a folder")
    args = parser.parse_args()
    env = with_tuned_allocator(os.environ)
    if env is not None:
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    asyncio.run(_bench(args.runs, args.model or _default_models()))


async def _bench(runs: int, models: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recording, source = _recording(folder)
        print(f"recording: 5.0 s of {source}, WebM/Opus, {len(recording)} bytes; {runs} runs\n")
        rows = [await _measure(name, folder, recording, runs) for name in models]
    first = rows[0]
    print("first load (page usable)      transferred (gzip)   uncompressed   target")
    print(
        f"{'HTML+CSS+JS+manifest+text':<29} {first['gzip'] / 1024:>14.1f} KB"
        f" {first['raw'] / 1024:>11.1f} KB   < {TARGET_BYTES / 1024:.0f} KB"
        f"  {'ok' if first['gzip'] < TARGET_BYTES else 'MISSED'}"
    )
    print(f"{'icons (fetched later)':<29} {first['icons'] / 1024:>14.1f} KB\n")
    print(
        "model                      direct analyse   HTTP round trip   ratio   HTTP cost   target"
    )
    for row in rows:
        print(
            f"{row['model'][:26]:<26} {row['direct'] * 1000:>11.0f} ms {row['http'] * 1000:>14.0f} ms"
            f" {row['http'] / row['direct']:>7.2f}x {(row['http'] - row['direct']) * 1000:>8.0f} ms"
            f"   < {TARGET_S * 1000:.0f} ms {'ok' if row['http'] < TARGET_S else 'MISSED'}"
        )


async def _measure(name: str, folder: Path, recording: bytes, runs: int) -> dict[str, Any]:
    from bots.core.service import VoiceMoodService
    from bots.web.server import start_web
    from inference.analysis import AnalysisConfig, Analyzer
    from inference.labels import CANONICAL_LABELS
    from inference.models import load_model
    from inference.worker import InferenceWorker
    from storage.store import Store

    model = load_model(_model_spec(name, folder), precision="bf16")
    worker = InferenceWorker(model)
    store_dir = folder / f"store-{name.replace('/', '_')}"
    async with (
        await Store.open(store_dir / "db.sqlite3", store_dir, labels=CANONICAL_LABELS) as store,
        worker,
    ):
        analyzer = Analyzer(worker, AnalysisConfig())
        web = await start_web(VoiceMoodService(analyzer, store), host="127.0.0.1", port=0)
        try:
            async with aiohttp.ClientSession(auto_decompress=False) as client:
                gzip, raw, icons = await _first_load(client, web.url)
                direct = await _median(runs, lambda: analyzer.analyse(recording))
                http = await _median(runs, lambda: _post(client, web.url, recording))
        finally:
            await web.stop()
    return {"model": name, "direct": direct, "http": http, "gzip": gzip, "raw": raw, "icons": icons}


async def _first_load(client: aiohttp.ClientSession, url: str) -> tuple[int, int, int]:
    import gzip

    sent = plain = 0
    for path in PAGE_FILES:
        headers = {"Accept-Encoding": "gzip"}
        async with client.get(url.rstrip("/") + path, headers=headers) as response:
            body = await response.read()
        sent += len(body)
        gzipped = response.headers.get("Content-Encoding") == "gzip"
        plain += len(gzip.decompress(body)) if gzipped else len(body)
    icons = 0
    for name in ("icon-192.png", "icon-512.png"):
        async with client.get(f"{url}static/{name}") as response:
            icons += len(await response.read())
    return sent, plain, icons


async def _post(client: aiohttp.ClientSession, url: str, recording: bytes) -> None:
    form = aiohttp.FormData()
    form.add_field("audio", recording, filename="recording.webm", content_type="audio/webm")
    async with client.post(url + "api/analyse", data=form) as response:
        answer = await response.json()
    if response.status != 200:
        raise RuntimeError(f"the API answered {response.status}: {answer}")


async def _median(runs: int, call: Any) -> float:
    await call()  # warm-up: first forward pass, first ffmpeg start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _default_models() -> list[str]:
    from inference.models import BUNDLED_DIR, HEAD_MARKER

    return ["bundled"] if (BUNDLED_DIR / HEAD_MARKER).is_file() else ["hubert-base", "tiny"]


def _model_spec(name: str, folder: Path) -> str | None:
    if name == "bundled":
        return None
    if name in ("hubert-base", "tiny"):
        return str(
            write_hubert(folder / name, size=TINY if name == "tiny" else None, attention_mask=False)
        )
    return name


def _recording(folder: Path) -> tuple[bytes, str]:
    """5 s of speech encoded as a browser's MediaRecorder would (WebM/Opus)."""
    from inference.audio import find_ffmpeg

    samples, source = _speech(5.0)
    wav = folder / "recording.wav"
    sf.write(wav, samples, SR, subtype="PCM_16")
    webm = folder / "recording.webm"
    subprocess.run(
        [find_ffmpeg(), "-y", "-i", str(wav), "-c:a", "libopus", "-b:a", "32k", str(webm)],
        check=True,
        capture_output=True,
    )
    return webm.read_bytes(), source


def _speech(seconds: float) -> tuple[np.ndarray, str]:
    metadata = SHARED_DATA / "ravdess" / "metadata.csv"
    n = int(seconds * SR)
    if metadata.is_file():
        with open(metadata, newline="") as f:
            paths = sorted(row["path"] for row in csv.DictReader(f))[:3]
        parts = [sf.read(SHARED_DATA / "ravdess" / p, dtype="float32")[0] for p in paths]
        return np.concatenate(parts)[:n], "RAVDESS speech"
    t = np.arange(n) / SR
    pitch = 140 * (1 + 0.15 * np.sin(2 * np.pi * 0.7 * t))
    voiced = sum(np.sin(k * 2 * np.pi * np.cumsum(pitch) / SR) / k for k in range(1, 8))
    envelope = (0.5 * (1 + np.sin(2 * np.pi * 4.0 * t))) ** 2
    signal = voiced * envelope
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32), "a synthetic voice"


if __name__ == "__main__":
    main()
