"""Admitting an upload and reading its recording from a multipart form within the limit.

The gate (bots.web.gate) admits an upload's bytes or answers "busy". A declared Content-Length
over the limit is refused before any of the body is read, even before `100 Continue`; a body that
declares no length (or lies) is read in chunks and dropped the moment it passes the limit, so a
huge upload costs at most `max_bytes` of memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from bots.web.context import CONFIG, GATE, WebConfig, language
from bots.web.errors import BadRequest, NoAudioField
from bots.web.gate import GateBusy
from bots.web.responses import error_response
from common.audio import megabytes
from inference.errors import TooLarge, VoiceMoodError

AUDIO_FIELD = "audio"
# Room for the multipart boundaries, part headers and the small text fields beside the audio.
FORM_OVERHEAD = 16 * 1024
_FIELD_LIMIT = 1024
_MAX_PARTS = 8
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Upload:
    """The audio part of a form and its small text fields (such as `lang` and `donate`)."""

    data: bytes
    filename: str
    fields: Mapping[str, str] = field(default_factory=dict)


async def gated(
    request: web.Request,
    handler: Callable[[web.Request, WebConfig], Awaitable[web.Response]],
) -> web.Response:
    """Run an upload's handler once the gate admits its bytes; else the polite "busy"."""
    gate, config = request.app[GATE], request.app[CONFIG]
    # A body that declares no length may be as large as the limit allows, so it reserves that.
    limit = config.max_bytes + FORM_OVERHEAD
    size = min(request.content_length or limit, limit)
    try:
        admission = gate.admit(size)
    except GateBusy as error:
        return error_response(error, language(request))
    try:
        return await handler(request, config)
    finally:
        gate.done(admission)


async def expect_upload(request: web.Request) -> web.StreamResponse | None:
    """`Expect: 100-continue`: refuse an upload declared too large before its body is sent."""
    if declared_too_large(request, request.app[CONFIG].max_bytes):
        return error_response(too_large(request.app[CONFIG].max_bytes), language(request))
    # Otherwise what aiohttp's default expect handler does: it is private
    # (aiohttp.web_urldispatcher._default_expect_handler) and a route takes one handler or the other.
    expect = request.headers.get("Expect", "").lower()
    if expect != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    if request.version >= (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0
    return None


def too_large(max_bytes: int) -> TooLarge:
    return TooLarge("That file is too large.", limit_mb=round(megabytes(max_bytes), 1))


def declared_too_large(request: web.BaseRequest, max_bytes: int) -> bool:
    """Whether the request says up front that its body is over the limit."""
    length = request.content_length
    return length is not None and length > max_bytes + FORM_OVERHEAD


async def read_upload(request: web.BaseRequest, max_bytes: int) -> Upload:
    """The `audio` part and the text fields of a multipart/form-data request, within the limits."""
    if declared_too_large(request, max_bytes):
        raise too_large(max_bytes)
    if request.content_type != "multipart/form-data":
        raise BadRequest("Send the audio as multipart/form-data.")
    try:
        return await _read_parts(request, max_bytes)
    except VoiceMoodError:
        raise
    except (ValueError, AssertionError, RuntimeError, UnicodeDecodeError) as error:
        # aiohttp's multipart reader reports a malformed body with these.
        raise BadRequest(f"Malformed multipart body: {error}") from None


async def _read_parts(request: web.BaseRequest, max_bytes: int) -> Upload:
    reader = await request.multipart()
    audio: bytes | None = None
    filename = ""
    fields: dict[str, str] = {}
    for _ in range(_MAX_PARTS):
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise BadRequest("Nested multipart bodies are not read.")
        if part.name == AUDIO_FIELD and audio is None:
            audio = await _read_limited(part, max_bytes, lambda: too_large(max_bytes))
            # Echoed back in the answer, so kept short.
            filename = (part.filename or "audio")[:200]
        elif part.filename is not None:
            # A file under another name: say which field is read rather than guess.
            raise NoAudioField(f"Files are read from the {AUDIO_FIELD!r} field only.")
        else:
            value = await _read_limited(part, _FIELD_LIMIT, _field_too_long)
            if part.name:
                fields[part.name] = value.decode("utf-8")
    else:
        raise BadRequest("Too many parts in the form.")
    if audio is None:
        raise NoAudioField(f"The form has no {AUDIO_FIELD!r} file.")
    return Upload(audio, filename, fields)


async def _read_limited(
    part: BodyPartReader, limit: int, over: Callable[[], VoiceMoodError]
) -> bytes:
    """The part's bytes; raises `over()` as soon as more than `limit` arrived."""
    data = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        data += chunk
        if len(data) > limit:
            raise over()
    return bytes(data)


def _field_too_long() -> BadRequest:
    return BadRequest(f"A text field of the form is longer than {_FIELD_LIMIT} bytes.")
