"""`voicemood worker`: serve the model to `voicemood run` replicas through Redis (VOICEMOOD_REDIS_URL).

Start any number, on any machines: each loads the model once, takes notes from the shared
stream through the consumer group and batches them as the in-process worker does. SIGINT/SIGTERM
stop taking notes and answer the ones taken; SIGHUP (or a change of a local model folder)
reloads the model. `voicemood worker --health` prints the live workers and the model each
serves, and exits 0 when at least one is alive, 1 when none is, 2 when Redis cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from voicemood.settings import Settings

NAME = "worker"
HELP = "Serve the model to the bots through Redis (VOICEMOOD_REDIS_URL); --health checks workers."

log = logging.getLogger("voicemood")

# A `voicemood worker`'s own queue only ever holds the notes it took (VOICEMOOD_WORKER_NOTES),
# so it needs no bound of its own; the stream's backlog is the bound people meet.
_UNBOUNDED = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--health",
        action="store_true",
        help="print the live workers and their models, then exit 0 (some alive) or 1 (none)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the least important log lines shown (default: %(default)s)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from inference.errors import VoiceMoodError
    from voicemood.logs import configure_logging, secrets_of

    if settings.redis_url is None:
        print("voicemood: set VOICEMOOD_REDIS_URL (redis://host:port/db) first", file=sys.stderr)
        return 2
    if args.health:
        return asyncio.run(health(settings))
    configure_logging(args.log_level, settings.log_json, secrets=secrets_of(settings))
    try:
        return asyncio.run(serve(settings))
    except VoiceMoodError as error:
        print(f"voicemood: {error}", file=sys.stderr)
        return 2


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Load the model, serve the stream until `stop` (or a signal), then drain."""
    from redis.asyncio import Redis

    from inference.remote.serve import ServeConfig, StreamServer
    from voicemood.wiring import build_reloader, build_worker

    assert settings.redis_url is not None
    worker = build_worker(settings, max_queue=_UNBOUNDED)
    reloader = build_reloader(settings, worker)
    stop = stop or _stop_on_signals(reload=reloader.trigger)
    redis = Redis.from_url(
        settings.redis_url.get_secret_value(), socket_timeout=5, socket_connect_timeout=5
    )
    config = ServeConfig(
        prefix=settings.redis_prefix,
        notes_at_once=settings.worker_notes,
        claim_after_s=settings.worker_claim_after_s,
        heartbeat_s=settings.worker_heartbeat_s,
    )
    try:
        async with worker, reloader:
            await StreamServer(redis, worker, config).serve(stop)
    finally:
        await redis.aclose()
    return 0


async def health(settings: Settings) -> int:
    """One line per live worker; the exit status says whether any is alive."""
    from redis.asyncio import Redis

    from inference.remote.client import read_heartbeats
    from inference.remote.protocol import Keys

    assert settings.redis_url is not None
    redis = Redis.from_url(
        settings.redis_url.get_secret_value(), socket_timeout=5, socket_connect_timeout=5
    )
    try:
        workers = await read_heartbeats(redis, Keys(settings.redis_prefix))
        backlog = await redis.xlen(Keys(settings.redis_prefix).notes)
    except Exception as error:
        print(f"voicemood: Redis cannot be reached ({type(error).__name__})", file=sys.stderr)
        return 2
    finally:
        await redis.aclose()
    for w in workers:
        print(
            f"{w.worker_id}\tmodel={w.model}\tin_flight={w.in_flight}\t"
            f"processed={w.processed}\thost={w.host}\tpid={w.pid}"
        )
    models = sorted({w.model for w in workers})
    print(
        f"{len(workers)} workers alive; backlog {backlog} notes; models: {', '.join(models) or '-'}"
    )
    if len(models) > 1:
        print("warning: the workers serve different model versions")
    return 0 if workers else 1


def _stop_on_signals(*, reload: object) -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    assert callable(reload)
    loop.add_signal_handler(signal.SIGHUP, reload)
    return stop
