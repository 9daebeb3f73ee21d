"""VoiceMood's web page and HTTP API, served beside the bots in the same process.

aiohttp, because the process is already asyncio (and aiohttp comes with discord.py anyway): the
page shares the event loop, the service and the one inference worker with the chat bots. The page
itself is plain HTML, CSS and JavaScript under `static/`, with no build step.
"""

from bots.web.server import WebHandle, build_app, start_web

__all__ = ["WebHandle", "build_app", "start_web"]
