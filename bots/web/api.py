"""The HTTP API handlers: each reads a request, makes one call on WebVisitors, answers JSON.

Every error a person can cause answers with a status and {"error": <polite sentence>, "code"},
the sentence in their language, from the same catalogue as the bots' replies.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bots.i18n import t
from bots.replies import render_error
from bots.web.errors import BadRequest, WebRequestError
from bots.web.gate import GateBusy, UploadGate
from bots.web.language import choose_language, page_catalogue
from bots.web.openapi import openapi
from bots.web.uploads import FORM_OVERHEAD, declared_too_large, read_upload, too_large
from bots.web.visitors import WebVisitors, new_session
from inference.errors import AudioError, Busy, InferenceTimeout, TooLarge, VoiceMoodError

SESSION_COOKIE = "vm_session"
_SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SESSION_MAX_AGE = 365 * 24 * 3600
_RETRY_AFTER_S = 30
_YES = frozenset({"1", "true", "on", "yes"})
# Codes whose sentence is an existing one of the bots rather than an "error.<code>" entry.
_SENTENCES = {"gone": "vote.gone"}
_STATUS = {"too_large": 413, "no_model": 503, "model_load": 503}

log = logging.getLogger(__name__)
_dumps = functools.partial(json.dumps, ensure_ascii=False)


@dataclass(frozen=True)
class WebConfig:
    max_bytes: int
    default_language: str


VISITORS = web.AppKey("visitors", WebVisitors)
CONFIG = web.AppKey("config", WebConfig)
GATE = web.AppKey("gate", UploadGate)


async def analyse(request: web.Request) -> web.Response:
    """POST /api/analyse: a multipart upload in, `voicemood classify --json`'s answer out."""
    return await gated(request, _analyse)


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
        return error_response(error, _language(request))
    try:
        return await handler(request, config)
    finally:
        gate.done(admission)


async def _analyse(request: web.Request, config: WebConfig) -> web.Response:
    lang = _language(request)
    try:
        upload = await read_upload(request, config.max_bytes)
        lang = _language(request, upload.fields.get("lang"))
        donate, remember = (_flag(request, upload.fields, name) for name in ("donate", "remember"))
        # Either box is the visitor's consent to keep this answer; only "donate" keeps the audio.
        session = (_session(request) or new_session()) if donate or remember else None
        answer = await request.app[VISITORS].analyse(
            upload.data, file=upload.filename, lang=lang, donor_session=session, keep_audio=donate
        )
    except VoiceMoodError as error:
        return error_response(error, lang)
    except ConnectionError:
        raise  # the client went away mid-upload: nobody to answer
    except Exception:
        log.exception("analysing a web upload failed")
        return error_response(VoiceMoodError("unexpected failure"), lang, status=500)
    response = web.json_response(answer.to_json(), dumps=_dumps)
    if session is not None and answer.note_id is not None:
        set_session(request, response, session)
    return response


def set_session(request: web.Request, response: web.StreamResponse, session: str) -> None:
    """The session cookie, once something is kept under it (never readable by scripts)."""
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=_SESSION_MAX_AGE,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def _flag(request: web.Request, fields: Mapping[str, str], name: str) -> bool:
    return (fields.get(name) or request.query.get(name, "")).lower() in _YES


async def expect_upload(request: web.Request) -> web.StreamResponse | None:
    """`Expect: 100-continue`: refuse an upload declared too large before its body is sent."""
    if declared_too_large(request, request.app[CONFIG].max_bytes):
        return error_response(too_large(request.app[CONFIG].max_bytes), _language(request))
    # Otherwise what aiohttp's own expect handler does.
    expect = request.headers.get("Expect", "").lower()
    if expect != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    if request.version >= (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0
    return None


async def feedback(request: web.Request) -> web.Response:
    """POST /api/feedback {"label", "note_id"?, "lang"?}: a vote on an answer."""
    lang = _language(request)
    try:
        body = await json_object(request)
        lang = _language(request, body.get("lang"))
        label, note_id = body.get("label"), body.get("note_id")
        if not isinstance(label, str) or not (
            note_id is None or (isinstance(note_id, int) and not isinstance(note_id, bool))
        ):
            raise BadRequest("Feedback needs a string label and an integer note_id or null.")
        answer = await request.app[VISITORS].feedback(_session(request), note_id, label, lang)
    except VoiceMoodError as error:
        return error_response(error, lang)
    return web.json_response({"stored": answer.stored, "message": answer.message}, dumps=_dumps)


async def forget(request: web.Request) -> web.Response:
    """POST /api/forget: delete everything donated from this browser, and its cookie."""
    lang = _language(request)
    message = await request.app[VISITORS].forget(_session(request), lang)
    response = web.json_response({"message": message}, dumps=_dumps)
    response.del_cookie(SESSION_COOKIE, samesite="Strict", httponly=True)
    return response


async def health(request: web.Request) -> web.Response:
    """GET /healthz: 200 while the shared worker runs, with the model it serves."""
    visitors = request.app[VISITORS]
    running = visitors.running
    return web.json_response(
        {"status": "ok" if running else "stopped", "model": visitors.model_name},
        status=200 if running else 503,
    )


async def messages(request: web.Request) -> web.Response:
    """GET /api/messages: the page's sentences in every language (from bots.i18n)."""
    response = web.json_response(page_catalogue(_language(request)), dumps=_dumps)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Accept-Language"
    response.enable_compression()  # part of the page's first load: 9 KB of text, 3 KB gzipped
    return response


async def openapi_json(request: web.Request) -> web.Response:
    """GET /openapi.json."""
    return web.json_response(openapi(request.app[CONFIG].max_bytes))


def error_response(error: VoiceMoodError, lang: str, *, status: int | None = None) -> web.Response:
    """The polite JSON error for a typed error, with the status and headers it calls for."""
    key = _SENTENCES.get(error.code)
    message = t(lang, key) if key else render_error(error, lang)
    if status is None:
        status = _status(error)
    response = web.json_response(
        {"error": message, "code": error.code}, status=status, dumps=_dumps
    )
    if isinstance(error, GateBusy):
        response.headers["Retry-After"] = str(error.retry_after_s)
    elif status == 503:
        response.headers["Retry-After"] = str(_RETRY_AFTER_S)
    if isinstance(error, TooLarge):
        # The rest of the body is never read, so this connection cannot carry another request.
        response.force_close()
    return response


def refuse(request: web.Request, error: VoiceMoodError) -> web.Response:
    """The polite JSON error for `error`, in the language the request asks for."""
    return error_response(error, _language(request))


def _status(error: VoiceMoodError) -> int:
    if isinstance(error, WebRequestError):
        return error.status
    if isinstance(error, Busy | InferenceTimeout):
        return 503
    if error.code in _STATUS:
        return _STATUS[error.code]
    return 422 if isinstance(error, AudioError) else 500


def language(request: web.Request, requested: Any = None) -> str:
    """The request's language: an explicit choice, else Accept-Language, else the default."""
    return _language(request, requested)


def session(request: web.Request) -> str | None:
    """The request's session token, when its cookie holds a well-formed one."""
    return _session(request)


def _language(request: web.Request, requested: Any = None) -> str:
    return choose_language(
        requested if isinstance(requested, str) else request.query.get("lang"),
        request.headers.get("Accept-Language"),
        request.app[CONFIG].default_language,
    )


def _session(request: web.Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    return token if token and _SESSION_RE.match(token) else None


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    try:
        body = await request.json()
    except (ValueError, web.HTTPRequestEntityTooLarge):
        raise BadRequest("The body is not a small JSON object.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body is not a JSON object.")
    return body
