"""VoiceMood's web page and HTTP API, served beside the bots in the same process.

aiohttp, because the process is already asyncio and discord.py (which brings aiohttp anyway) and
python-telegram-bot share its one event loop: the page shares that loop, the service and the one
inference worker with the chat bots, where a framework with its own server would want a loop or
a process of its own. The page itself is plain HTML, CSS and JavaScript under `static/`, with no
build step.

The server is imported on first use, not with the package, so importing one small module (such as
`bots.web.origin`) does not load the whole server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bots.web.server import WebHandle, build_app, start_web

__all__ = ["WebHandle", "build_app", "start_web"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bots.web import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
