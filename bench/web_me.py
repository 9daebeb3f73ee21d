"""What "remember my answers" and the page's Me area cost, over HTTP on loopback.

    python bench/web_me.py [--runs 7] [--notes 30] [--model tiny|hubert-base|bundled|FOLDER]

Rows, each the median of --runs after one warm-up, against a baseline measured in the same run:
- a 5 s WebM recording POSTed to /api/analyse remembered (the answer stored, no audio) against
  the same upload not remembered (nothing stored): what keeping the answer adds;
- GET /api/me/history (the /history chart, drawn by matplotlib), /api/me/export.json and .csv
  with --notes remembered notes, against GET /api/me (a lookup and the words: the floor).
Default model: tiny (the tests' tiny HuBERT), so the figures are the server's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

import aiohttp
from web import _median, _model_spec, _recording

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from inference.runtime import with_tuned_allocator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--notes", type=int, default=30)
    parser.add_argument("--model", default="tiny")
    args = parser.parse_args()
    env = with_tuned_allocator(os.environ)
    if env is not None:
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    asyncio.run(_bench(args.runs, args.notes, args.model))


async def _bench(runs: int, notes: int, model_name: str) -> None:
    from bots.core.service import VoiceMoodService
    from bots.web.server import start_web
    from inference.analysis import AnalysisConfig, Analyzer
    from inference.labels import CANONICAL_LABELS
    from inference.models import load_model
    from inference.worker import InferenceWorker
    from storage.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recording, source = _recording(folder)
        model = load_model(_model_spec(model_name, folder), precision="bf16")
        async with (
            await Store.open(
                folder / "db.sqlite3", folder / "data", labels=CANONICAL_LABELS
            ) as store,
            InferenceWorker(model) as worker,
        ):
            web = await start_web(
                VoiceMoodService(Analyzer(worker, AnalysisConfig()), store),
                host="127.0.0.1",
                port=0,
            )
            jar = aiohttp.CookieJar(unsafe=True)
            try:
                async with aiohttp.ClientSession(cookie_jar=jar) as client:
                    url = web.url
                    forgotten = await _median(
                        runs, lambda: _analyse(client, url, recording, "false")
                    )
                    remembered = await _median(
                        runs, lambda: _analyse(client, url, recording, "true")
                    )
                    for _ in range(max(0, notes - runs - 1)):
                        await _analyse(client, url, recording, "true")
                    kept = json.loads(await _get(client, url + "api/me"))
                    floor = await _median(runs, lambda: _get(client, url + "api/me"))
                    timed = {
                        path: await _median(runs, lambda path=path: _get(client, url + path))
                        for path in (
                            "api/me/history?period=month",
                            "api/me/export.json",
                            "api/me/export.csv",
                        )
                    }
            finally:
                await web.stop()
    print(f"model: {model_name}; recording: 5.0 s of {source}, WebM/Opus; {runs} runs")
    print(f"remembered notes in the store: {max(notes, runs + 1)} ({kept['remembered']=})\n")
    print("request                                   median ms   baseline ms   ratio")
    print(
        f"{'POST /api/analyse remember=true':<41} {remembered * 1e3:>9.1f}   "
        f"{forgotten * 1e3:>11.1f}   {remembered / forgotten:>5.2f}  (baseline: not remembered)"
    )
    for path, seconds in timed.items():
        print(
            f"{'GET /' + path:<41} {seconds * 1e3:>9.1f}   {floor * 1e3:>11.1f}   "
            f"{seconds / floor:>5.1f}  (baseline: GET /api/me)"
        )


async def _analyse(
    client: aiohttp.ClientSession, url: str, recording: bytes, remember: str
) -> None:
    form = aiohttp.FormData({"remember": remember})
    form.add_field("audio", recording, filename="recording.webm", content_type="audio/webm")
    async with client.post(url + "api/analyse", data=form) as response:
        answer = await response.json()
    if response.status != 200 or answer["remembered"] != (remember == "true"):
        raise RuntimeError(f"the API answered {response.status}: {answer}")


async def _get(client: aiohttp.ClientSession, url: str) -> bytes:
    async with client.get(url) as response:
        body = await response.read()
    if response.status != 200:
        raise RuntimeError(f"{url} answered {response.status}: {body[:200]!r}")
    return body


if __name__ == "__main__":
    main()
