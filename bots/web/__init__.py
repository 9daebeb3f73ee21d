"""VoiceMood's web page and HTTP API, served beside the bots in the same process.

aiohttp, because the process is already asyncio: discord.py (which brings aiohttp anyway) and
python-telegram-bot share its one event loop, and so does the page, with the service and the one
inference worker, where a framework with its own server would want a loop or a process of its
own. The page itself is plain HTML, CSS and JavaScript under `static/`, with no build step.

`bots.web.server` builds and runs the app; this package imports nothing, so importing one of its
small modules (such as `bots.web.origin`) does not load the server.
"""
