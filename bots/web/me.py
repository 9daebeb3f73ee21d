"""The "Me" area of the page: a remembering visitor's history, export and words, as the bots' commands.

A visitor is remembered only after ticking "Remember my answers in this browser" (or "donate"):
then they are a person on the platform "web" (see bots.web.visitors), and these endpoints run
the very /history, /export and /words commands the chat bots run, through the service. A browser
that never opted in gets a polite 404 and nothing is created; only choosing a word with the
box ticked (an explicit act) may create the person, as a remembered answer would.
"""

from __future__ import annotations

import base64

from aiohttp import web

from bots.core.history import PERIOD_DAYS
from bots.core.values import Reply, User, Where
from bots.core.words import label_called
from bots.i18n import t
from bots.web.bodies import History, Me, Words, WordsRequest
from bots.web.context import language, read_json, service
from bots.web.errors import BadRequest, NotRemembered, UnknownLabel
from bots.web.responses import error_response, json_reply
from bots.web.session import session, set_session
from bots.web.visitors import PLATFORM, new_session, visitor
from inference.errors import VoiceMoodError

EXPORT_TYPES = {"csv": "text/csv", "json": "application/json"}


async def status(request: web.Request) -> web.Response:
    """GET /api/me: whether this browser is remembered, and the visitor's words for tones."""
    lang = language(request)
    user = visitor(session(request), lang)
    known = user is not None and await service(request).knows(user)
    words = await service(request).words_of(user) if user is not None and known else {}
    message = t(lang, "web.me.on" if known else "web.me.off")
    return json_reply(Me(remembered=known, words=words, message=message))


async def history(request: web.Request) -> web.Response:
    """GET /api/me/history?period=week|month: the /history caption and chart (a PNG data URL)."""
    lang = language(request)
    try:
        period = request.query.get("period", "week")
        if period not in PERIOD_DAYS:
            raise BadRequest("period must be week or month.")
        reply = await _command(request, lang, "history", [period])
    except VoiceMoodError as error:
        return error_response(error, lang)
    chart = None
    if reply.photo is not None:
        chart = "data:image/png;base64," + base64.b64encode(reply.photo).decode()
    return json_reply(History(text=reply.text, chart=chart))


async def export(request: web.Request) -> web.Response:
    """GET /api/me/export.{csv,json}: the /export file of that kind, as a download."""
    lang = language(request)
    kind = request.match_info["kind"]
    try:
        reply = await _command(request, lang, "export", [])
    except VoiceMoodError as error:
        return error_response(error, lang)
    file = next(f for f in reply.files if f.mime_type == EXPORT_TYPES[kind])
    return web.Response(
        body=file.data,
        content_type=file.mime_type,
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "Cache-Control": "no-store",
        },
    )


async def words(request: web.Request) -> web.Response:
    """POST /api/me/words {"label", "word"} or {"reset": true}: /words, for this browser.

    A browser not yet remembered is remembered from here only when the body says "remember"
    (the page's box is ticked); its new session cookie comes with the answer.
    """
    lang = language(request)
    try:
        body = await read_json(request, WordsRequest)
        lang = language(request, body.lang)
        args = _word_args(body)
        token = session(request)
        user = visitor(token, lang)
        fresh = None
        if user is None or not await service(request).knows(user):
            # No word is stored for a browser that has not just asked to be remembered.
            if not body.remember:
                raise NotRemembered("Nothing is remembered for this browser.")
            fresh = token or new_session()
            user = visitor(fresh, lang)
        assert user is not None
        reply = await service(request).on_command(user, _where(user), "words", args)
        kept = await service(request).words_of(user)
    except VoiceMoodError as error:
        return error_response(error, lang)
    response = json_reply(Words(message=reply.text, words=kept))
    if fresh is not None:
        set_session(request, response, fresh)
    return response


async def _command(request: web.Request, lang: str, name: str, args: list[str]) -> Reply:
    """Run one of the bots' personal commands for a remembered visitor, else NotRemembered."""
    user = visitor(session(request), lang)
    if user is None or not await service(request).knows(user):
        raise NotRemembered("Nothing is remembered for this browser.")
    return await service(request).on_command(user, _where(user), name, args)


def _word_args(body: WordsRequest) -> list[str]:
    """The /words arguments the body asks for."""
    if body.reset:
        return ["reset"]
    label, word = body.label, body.word
    if label is None or word is None:
        raise BadRequest("Words need a string label and a string word, or reset: true.")
    canonical = label_called(label)
    if canonical is None:
        raise UnknownLabel(f"Unknown tone {label!r}.", label=label)
    # An empty word is refused by /words' own length rule (its sentence says the limit).
    return [canonical, *(word.split() or [""])]


def _where(user: User) -> Where:
    return Where(PLATFORM, user.id, is_group=False)
