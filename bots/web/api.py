"""The page's own API handlers: each reads its request through a body model, makes one call on
WebVisitors, and answers through a body model (bots.web.bodies), errors as bots.web.responses says.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bots.web.bodies import (
    AnalyseForm,
    Answer,
    Catalogue,
    FeedbackAnswer,
    FeedbackRequest,
    Forgotten,
    Health,
)
from bots.web.context import CONFIG, VISITORS, WebConfig, language, parse, read_json
from bots.web.language import page_catalogue
from bots.web.openapi import openapi
from bots.web.responses import error_response, json_document, json_reply
from bots.web.session import clear_session, session, set_session
from bots.web.uploads import gated, read_upload
from bots.web.visitors import new_session
from inference.errors import VoiceMoodError

_FLAGS = ("donate", "remember", "face")

log = logging.getLogger(__name__)


async def analyse(request: web.Request) -> web.Response:
    """POST /api/analyse: a multipart upload in, `voicemood classify --json`'s answer out."""
    return await gated(request, _analyse)


async def _analyse(request: web.Request, config: WebConfig) -> web.Response:
    lang = language(request)
    try:
        upload = await read_upload(request, config.max_bytes)
        # The boxes may also come as query parameters (an empty form field does not count).
        flags = {name: upload.fields.get(name) or request.query.get(name, "") for name in _FLAGS}
        form = parse(AnalyseForm, {**upload.fields, **flags, "audio": upload.data})
        lang = language(request, form.lang)
        # Either box is the visitor's consent to keep this answer; only "donate" keeps the audio.
        kept = form.donate or form.remember
        token = (session(request) or new_session()) if kept else None
        answer = await request.app[VISITORS].analyse(
            form.audio,
            file=upload.filename,
            lang=lang,
            donor_session=token,
            keep_audio=form.donate,
            face=form.face,
        )
        body = Answer.model_validate(answer.to_json())
    except VoiceMoodError as error:
        return error_response(error, lang)
    except ConnectionError:
        raise  # the client went away mid-upload: nobody to answer
    except Exception:
        log.exception("analysing a web upload failed")
        return error_response(VoiceMoodError("unexpected failure"), lang, status=500)
    response = json_reply(body)
    if token is not None and answer.note_id is not None:
        set_session(request, response, token)
    return response


async def feedback(request: web.Request) -> web.Response:
    """POST /api/feedback {"label", "note_id"?, "lang"?}: a vote on an answer."""
    lang = language(request)
    try:
        body = await read_json(request, FeedbackRequest)
        lang = language(request, body.lang)
        answer = await request.app[VISITORS].feedback(
            session(request), body.note_id, body.label, lang
        )
    except VoiceMoodError as error:
        return error_response(error, lang)
    return json_reply(FeedbackAnswer(stored=answer.stored, message=answer.message))


async def forget(request: web.Request) -> web.Response:
    """POST /api/forget: delete everything donated from this browser, and its cookie."""
    message = await request.app[VISITORS].forget(session(request), language(request))
    response = json_reply(Forgotten(message=message))
    clear_session(response)
    return response


async def health(request: web.Request) -> web.Response:
    """GET /healthz: 200 while the shared worker runs, with the model it serves."""
    visitors = request.app[VISITORS]
    running = visitors.running
    return json_reply(
        Health(status="ok" if running else "stopped", model=visitors.model_name),
        status=200 if running else 503,
    )


async def messages(request: web.Request) -> web.Response:
    """GET /api/messages: the page's sentences in every language (from bots.i18n)."""
    response = json_reply(Catalogue.model_validate(page_catalogue(language(request))))
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Accept-Language"
    response.enable_compression()  # part of the page's first load: 9 KB of text, 3 KB gzipped
    return response


async def openapi_json(request: web.Request) -> web.Response:
    """GET /openapi.json."""
    return json_document(openapi(request.app[CONFIG].max_bytes))
