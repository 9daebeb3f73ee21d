"""Real `voicemood worker` child processes for the remote-worker tests, and a client to reach them."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from inference.remote.client import RemoteConfig, RemoteWorker, read_heartbeats
from inference.remote.protocol import Heartbeat, Keys
from tests.subprocess_env import voicemood_env


class WorkerProcess:
    """One `python -m voicemood worker`, its log in a file (read by the tests)."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process, self.log = process, log

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye; whatever it took stays pending in Redis."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=60)


def worker_env(url: str, prefix: str, model: Path, **settings: str) -> dict[str, str]:
    return voicemood_env(
        VOICEMOOD_REDIS_URL=url,
        VOICEMOOD_REDIS_PREFIX=prefix,
        VOICEMOOD_MODEL=str(model),
        VOICEMOOD_PRECISION="fp32",
        VOICEMOOD_MODEL_WATCH_S="0",
        VOICEMOOD_WORKER_HEARTBEAT_S="0.3",
        **settings,
    )


async def start_worker(
    folder: Path, url: str, prefix: str, model: Path, *, wait: bool = True, **settings: str
) -> WorkerProcess:
    """Start a worker; with `wait`, return once its heartbeat is in Redis (its model loaded)."""
    log = folder / f"worker-{time.monotonic_ns()}.log"
    with log.open("wb") as out:  # noqa: ASYNC230 - opening a new local file does not wait
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "voicemood",
            "worker",
            env=worker_env(url, prefix, model, **settings),
            cwd=folder,
            stdout=out,
            stderr=out,
        )
    worker = WorkerProcess(process, log)
    if wait:
        try:
            async with asyncio.timeout(120):
                while not any(w.pid == worker.pid for w in await heartbeats(url, prefix)):
                    assert process.returncode is None, worker.text()[-3000:]
                    await asyncio.sleep(0.1)
        except BaseException:
            # A worker that never showed up must not outlive the test (it would keep retrying).
            if process.returncode is None:
                worker.kill()
                await process.wait()
            raise
    return worker


async def heartbeats(url: str, prefix: str) -> list[Heartbeat]:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        return await read_heartbeats(redis, Keys(prefix))
    finally:
        await redis.aclose()


@asynccontextmanager
async def remote(url: str, prefix: str, **config: float) -> AsyncIterator[RemoteWorker]:
    """The bot's side: a RemoteWorker as `voicemood run` builds it, started and closed."""
    worker = RemoteWorker(RemoteConfig(url=url, prefix=prefix, refresh_s=0.2, **config))  # type: ignore[arg-type]
    async with worker:
        yield worker
