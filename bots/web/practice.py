"""The page's Practice tab over HTTP: the practice core (bots.core.practice) for a browser.

Starting practice is the visitor's explicit act, and the tab says what it keeps: the session and
the running score per tone (counts only), under the same anonymous cookie-person as "remember".
Attempts are heard and thrown away, never stored as notes or audio (see bots.core.practice).
Every sentence is sent in every language, so switching the page's language re-words what is shown.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bots.core.practice import (
    NoPracticeRound,
    PracticeRound,
    render_attempt,
    render_round,
    render_summary,
)
from bots.core.practice import PracticeAttempt as HeardAttempt
from bots.i18n import LANGUAGES, t
from bots.web import bodies
from bots.web.context import WebConfig, language, parse, read_json, service
from bots.web.errors import NoPracticeOpen, NotPractised
from bots.web.responses import error_response, json_reply
from bots.web.session import session, set_session
from bots.web.uploads import gated, read_upload
from bots.web.visitors import new_session, visitor
from inference.errors import VoiceMoodError

log = logging.getLogger(__name__)


async def status(request: web.Request) -> web.Response:
    """GET /api/practice: the round waiting for an attempt (null: none), and the tones offered."""
    user = visitor(session(request), language(request))
    current = await service(request).practice_current(user) if user is not None else None
    return json_reply(
        bodies.PracticeState(
            round=_round(current) if current else None,
            tones=list(service(request).practice.tones),
        )
    )


async def start(request: web.Request) -> web.Response:
    """POST /api/practice/start {"tone"?}: a new round; the first one remembers the browser."""
    lang = language(request)
    try:
        body = await read_json(request, bodies.PracticeStartRequest)
        lang = language(request, body.lang)
        tone = body.tone
        if tone is not None and tone not in service(request).practice.tones:
            raise NotPractised(f"{tone!r} is not a practice tone.", tone=tone)
        token = session(request)
        fresh = None if token is not None else new_session()
        user = visitor(token or fresh, lang)
        assert user is not None
        try:
            round_ = await service(request).practice_start(user, tone)
        except ValueError:
            raise NotPractised("The running model offers no practice tones.") from None
    except VoiceMoodError as error:
        return error_response(error, lang)
    response = json_reply(bodies.PracticeStarted(round=_round(round_)))
    if fresh is not None:
        set_session(request, response, fresh)
    return response


async def attempt(request: web.Request) -> web.Response:
    """POST /api/practice/attempt: a multipart recording of the open round, heard, never kept."""
    return await gated(request, _attempt)


async def _attempt(request: web.Request, config: WebConfig) -> web.Response:
    lang = language(request)
    try:
        upload = await read_upload(request, config.max_bytes)
        form = parse(bodies.PracticeAttemptForm, {**upload.fields, "audio": upload.data})
        lang = language(request, form.lang)
        user = visitor(session(request), lang)
        if user is None:
            raise NoPracticeOpen("No practice round is open for this browser.")
        try:
            heard = await service(request).practice_hear(user, form.audio)
        except NoPracticeRound:
            raise NoPracticeOpen("No practice round is open for this browser.") from None
    except VoiceMoodError as error:
        return error_response(error, lang)
    except ConnectionError:
        raise  # the client went away mid-upload: nobody to answer
    except Exception:
        log.exception("hearing a practice attempt from the web failed")
        return error_response(VoiceMoodError("unexpected failure"), lang, status=500)
    return json_reply(_attempt_body(heard))


async def stop(request: web.Request) -> web.Response:
    """POST /api/practice/stop: end the session with its summary (null when none was open)."""
    lang = language(request)
    if request.can_read_body:
        try:
            lang = language(request, (await read_json(request, bodies.PracticeStopRequest)).lang)
        except VoiceMoodError as error:
            return error_response(error, lang)
    user = visitor(session(request), lang)
    summary = await service(request).practice_stop(user) if user is not None else None
    if summary is None:
        return json_reply(
            bodies.PracticeStopped(summary=None, message=t(lang, "web.practice.none"))
        )
    return json_reply(
        bodies.PracticeStopped(
            summary=bodies.PracticeSummary(
                rounds=summary.rounds,
                session=[_tally(x) for x in summary.session],
                scores=[_tally(x) for x in summary.scores],
                text={lang: render_summary(summary, lang) for lang in LANGUAGES},
            ),
            message=None,
        )
    )


def _round(round_: PracticeRound) -> bodies.PracticeRound:
    return bodies.PracticeRound(
        tone=round_.tone,
        number=round_.number,
        sentence={lang: round_.sentence(lang) for lang in LANGUAGES},
        text={lang: render_round(round_, lang) for lang in LANGUAGES},
    )


def _attempt_body(heard: HeardAttempt) -> bodies.PracticeAttempt:
    return bodies.PracticeAttempt(
        target=heard.target,
        heard=heard.heard,
        confidence=round(heard.confidence, 4),
        not_sure=heard.not_sure,
        top=[bodies.Top(label=k, probability=round(v, 4)) for k, v in heard.prediction.top],
        hit=heard.hit,
        hint=bodies.Hint(cue=heard.hint.cue, direction=heard.hint.direction)
        if heard.hint
        else None,
        score=_tally(heard.score) if heard.score is not None else None,
        text={lang: render_attempt(heard, lang) for lang in LANGUAGES},
    )


def _tally(x: Any) -> bodies.PracticeTally:
    return bodies.PracticeTally(tone=x.tone, hits=x.hits, attempts=x.attempts)
