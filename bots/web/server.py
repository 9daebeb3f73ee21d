"""Building the web app and running it on a host and port, beside the bots in one event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from bots.core.service import VoiceMoodService
from bots.web import api, me, music, practice
from bots.web.context import CONFIG, GATE, VISITORS, WebConfig
from bots.web.gate import UploadGate
from bots.web.origin import same_site_only
from bots.web.responses import refuse
from bots.web.shell import ShellFile, load_shell, respond
from bots.web.uploads import expect_upload
from bots.web.visitors import WebVisitors

# JSON bodies (feedback) are tiny; uploads are read by bots.web.uploads under their own limit.
_JSON_LIMIT = 64 * 1024
# After refusing an oversized upload, read (and drop) what the client still sends for this long,
# so browsers see the 413 instead of a reset connection, then close.
_LINGER_S = 2.0

# Memory for uploads in flight stays under this many of the largest allowed: the old bound of 8
# uploads, now shared by however many smaller ones fit in it.
UPLOAD_BUDGET = 8
# The longest wait an admitted upload is expected to have; half the worker's own timeout, so an
# admitted upload is answered rather than timed out.
MAX_WAIT_S = 60.0

SHELL = web.AppKey("shell", dict[str, ShellFile])


@dataclass
class WebHandle:
    """A running web page; `url` has the port actually bound (useful with port 0)."""

    url: str
    _runner: web.AppRunner = field(repr=False)

    @property
    def app(self) -> web.Application:
        return self._runner.app

    async def stop(self) -> None:
        """Stop accepting, finish what is in flight (briefly), release the port."""
        await self._runner.cleanup()


async def start_web(
    service: VoiceMoodService,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    max_bytes: int | None = None,
    max_bytes_in_flight: int | None = None,
    max_wait_s: float = MAX_WAIT_S,
) -> WebHandle:
    """Serve the page and API for `service` (its analyzer, worker and store) on host:port.

    `max_bytes` limits one upload (default: the service's limit); `max_bytes_in_flight` (default
    UPLOAD_BUDGET uploads of the largest size) and `max_wait_s` bound what uploads being read or
    analysed hold and wait, before the next is told to retry.
    """
    shell = await asyncio.to_thread(load_shell)
    app = build_app(
        service,
        max_bytes=max_bytes,
        max_bytes_in_flight=max_bytes_in_flight,
        max_wait_s=max_wait_s,
        shell=shell,
    )
    runner = web.AppRunner(app, access_log=None, lingering_time=_LINGER_S, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    shown = f"[{host}]" if ":" in host else host
    return WebHandle(f"http://{shown}:{bound}/", runner)


def build_app(
    service: VoiceMoodService,
    *,
    max_bytes: int | None = None,
    max_bytes_in_flight: int | None = None,
    max_wait_s: float = MAX_WAIT_S,
    shell: dict[str, ShellFile] | None = None,
) -> web.Application:
    """The aiohttp application: the page shell, the API, health and the OpenAPI description."""
    app = web.Application(client_max_size=_JSON_LIMIT, middlewares=[same_site_only(refuse)])
    app[VISITORS] = WebVisitors(service)
    limit = max_bytes if max_bytes is not None else service.max_bytes
    app[CONFIG] = WebConfig(max_bytes=limit, default_language=service.default_language)
    budget = max_bytes_in_flight if max_bytes_in_flight is not None else UPLOAD_BUDGET * limit
    app[GATE] = UploadGate(budget, max_wait_s)
    app[SHELL] = shell if shell is not None else load_shell()
    app.on_response_prepare.append(_common_headers)
    app.router.add_get("/", _page)
    app.router.add_get("/sw.js", _shell_file("sw.js"))
    app.router.add_get("/manifest.webmanifest", _shell_file("manifest.webmanifest"))
    app.router.add_get("/static/{name}", _static)
    app.router.add_post("/api/analyse", api.analyse, expect_handler=expect_upload)
    app.router.add_post("/api/feedback", api.feedback)
    app.router.add_post("/api/music", music.music)
    app.router.add_post("/api/forget", api.forget)
    app.router.add_get("/api/messages", api.messages)
    app.router.add_get("/api/me", me.status)
    app.router.add_get("/api/me/history", me.history)
    app.router.add_get("/api/me/export.{kind:csv|json}", me.export)
    app.router.add_post("/api/me/words", me.words)
    app.router.add_get("/api/practice", practice.status)
    app.router.add_post("/api/practice/start", practice.start)
    app.router.add_post("/api/practice/attempt", practice.attempt, expect_handler=expect_upload)
    app.router.add_post("/api/practice/stop", practice.stop)
    app.router.add_get("/healthz", api.health)
    app.router.add_get("/openapi.json", api.openapi_json)
    return app


async def _page(request: web.Request) -> web.Response:
    """GET /: the page."""
    return respond(request, request.app[SHELL]["index.html"])


async def _static(request: web.Request) -> web.Response:
    """GET /static/{name}: one of the shell's files, by name only."""
    file = request.app[SHELL].get(request.match_info["name"])
    if file is None or request.match_info["name"] == "index.html":
        raise web.HTTPNotFound()
    return respond(request, file)


def _shell_file(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler serving one named file of the shell at its own path (such as /sw.js)."""

    async def handler(request: web.Request) -> web.Response:
        return respond(request, request.app[SHELL][name])

    return handler


async def _common_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
