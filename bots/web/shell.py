"""The page shell (HTML, CSS, JS, manifest, service worker, icons), read once and served from memory.

Serving a fixed set of named files, rather than a folder, means no request path ever reaches the
file system, and each file gets the content type browsers insist on (a service worker must come
as JavaScript, a manifest as application/manifest+json).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).with_name("static")

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",  # the fonts' licences
}
# The page's own code and styles only; anything else that loads is the browser's business.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@dataclass(frozen=True)
class ShellFile:
    body: bytes
    # Kept only when compressing saves something (text files do, PNGs don't).
    gzipped: bytes | None
    content_type: str
    etag: str


def load_shell(folder: Path = STATIC_DIR) -> dict[str, ShellFile]:
    """Every servable file in `folder`, by name."""
    files = {}
    for path in sorted(folder.iterdir()):
        content_type = _TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        body = path.read_bytes()
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        files[path.name] = ShellFile(
            body=body,
            gzipped=packed if len(packed) < len(body) * 0.9 else None,
            content_type=content_type,
            etag=f'"{hashlib.sha256(body).hexdigest()[:20]}"',
        )
    return files


def respond(request: web.BaseRequest, file: ShellFile) -> web.Response:
    """The file, or 304 when the browser has it; gzipped when the browser takes gzip."""
    headers = {"ETag": file.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if file.content_type.startswith("text/html"):
        headers["Content-Security-Policy"] = _CSP
    if file.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = file.body
    if file.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = file.gzipped
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers={**headers, "Content-Type": file.content_type})
