"""The page's Practice tab over HTTP: the practice core (bots.core.practice) for a browser.

Starting practice is the visitor's explicit act, and the tab says what it keeps: the session and
the running score per tone (counts only), under the same anonymous cookie-person as "remember".
Attempts are heard and thrown away, never stored as notes or audio (see bots.core.practice).
Every sentence is sent in every language, so switching the page's language re-words what is shown.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from aiohttp import web

from bots.core.practice import (
    NoPracticeRound,
    PracticeAttempt,
    PracticeRound,
    render_attempt,
    render_round,
    render_summary,
)
from bots.core.service import VoiceMoodService
from bots.i18n import LANGUAGES, t
from bots.web import api
from bots.web.errors import NoPracticeOpen, NotPractised
from bots.web.uploads import read_upload
from bots.web.visitors import new_session, visitor
from inference.errors import VoiceMoodError

log = logging.getLogger(__name__)
_dumps = functools.partial(json.dumps, ensure_ascii=False)


async def status(request: web.Request) -> web.Response:
    """GET /api/practice: the round waiting for an attempt (null: none), and the tones offered."""
    user = visitor(api.session(request), api.language(request))
    current = await _service(request).practice_current(user) if user is not None else None
    return web.json_response(
        {
            "round": _round(current) if current else None,
            "tones": list(_service(request).practice.tones),
        },
        dumps=_dumps,
    )


async def start(request: web.Request) -> web.Response:
    """POST /api/practice/start {"tone"?}: a new round; the first one remembers the browser."""
    lang = api.language(request)
    try:
        body = await api.json_object(request)
        lang = api.language(request, body.get("lang"))
        tone = body.get("tone")
        if tone is not None and tone not in _service(request).practice.tones:
            raise NotPractised(f"{tone!r} is not a practice tone.", tone=str(tone))
        session = api.session(request)
        fresh = None if session is not None else new_session()
        user = visitor(session or fresh, lang)
        assert user is not None
        try:
            round_ = await _service(request).practice_start(user, tone)
        except ValueError:
            raise NotPractised("The running model offers no practice tones.") from None
    except VoiceMoodError as error:
        return api.error_response(error, lang)
    response = web.json_response({"round": _round(round_)}, dumps=_dumps)
    if fresh is not None:
        api.set_session(request, response, fresh)
    return response


async def attempt(request: web.Request) -> web.Response:
    """POST /api/practice/attempt: a multipart recording of the open round, heard, never kept."""
    return await api.gated(request, _attempt)


async def _attempt(request: web.Request, config: api.WebConfig) -> web.Response:
    lang = api.language(request)
    try:
        upload = await read_upload(request, config.max_bytes)
        lang = api.language(request, upload.fields.get("lang"))
        user = visitor(api.session(request), lang)
        if user is None:
            raise NoPracticeOpen("No practice round is open for this browser.")
        try:
            heard = await _service(request).practice_hear(user, upload.data)
        except NoPracticeRound:
            raise NoPracticeOpen("No practice round is open for this browser.") from None
    except VoiceMoodError as error:
        return api.error_response(error, lang)
    except ConnectionError:
        raise  # the client went away mid-upload: nobody to answer
    except Exception:
        log.exception("hearing a practice attempt from the web failed")
        return api.error_response(VoiceMoodError("unexpected failure"), lang, status=500)
    return web.json_response(_attempt_json(heard), dumps=_dumps)


async def stop(request: web.Request) -> web.Response:
    """POST /api/practice/stop: end the session with its summary (null when none was open)."""
    lang = api.language(request)
    if request.can_read_body:
        try:
            lang = api.language(request, (await api.json_object(request)).get("lang"))
        except VoiceMoodError as error:
            return api.error_response(error, lang)
    user = visitor(api.session(request), lang)
    summary = await _service(request).practice_stop(user) if user is not None else None
    if summary is None:
        return web.json_response(
            {"summary": None, "message": t(lang, "web.practice.none")}, dumps=_dumps
        )
    return web.json_response(
        {
            "summary": {
                "rounds": summary.rounds,
                "session": [_tally(x) for x in summary.session],
                "scores": [_tally(x) for x in summary.scores],
                "text": {lang: render_summary(summary, lang) for lang in LANGUAGES},
            },
            "message": None,
        },
        dumps=_dumps,
    )


def _round(round_: PracticeRound) -> dict[str, Any]:
    return {
        "tone": round_.tone,
        "number": round_.number,
        "sentence": {lang: round_.sentence(lang) for lang in LANGUAGES},
        "text": {lang: render_round(round_, lang) for lang in LANGUAGES},
    }


def _attempt_json(heard: PracticeAttempt) -> dict[str, Any]:
    p = heard.prediction
    return {
        "target": heard.target,
        "heard": heard.heard,
        "confidence": round(heard.confidence, 4),
        "not_sure": heard.not_sure,
        "top": [{"label": k, "probability": round(v, 4)} for k, v in p.top],
        "hit": heard.hit,
        "hint": {"cue": heard.hint.cue, "direction": heard.hint.direction} if heard.hint else None,
        "score": _tally(heard.score) if heard.score is not None else None,
        "text": {lang: render_attempt(heard, lang) for lang in LANGUAGES},
    }


def _tally(x: Any) -> dict[str, Any]:
    return {"tone": x.tone, "hits": x.hits, "attempts": x.attempts}


def _service(request: web.Request) -> VoiceMoodService:
    return request.app[api.VISITORS].service
