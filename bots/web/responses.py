"""How the API answers: a body model as JSON, or a typed error as its polite JSON sentence.

Every error a person can cause answers with a status and {"error": <polite sentence>, "code"},
the sentence in their language, from the same catalogue as the bots' replies.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from bots.i18n import t
from bots.replies import render_error
from bots.web.bodies import ErrorBody
from bots.web.context import language
from bots.web.errors import WebRequestError
from bots.web.gate import GateBusy
from inference.errors import AudioError, Busy, InferenceTimeout, TooLarge, VoiceMoodError

_RETRY_AFTER_S = 30
# Codes whose sentence is an existing one of the bots rather than an "error.<code>" entry.
_SENTENCES = {"gone": "vote.gone"}
_STATUS = {"too_large": 413, "no_model": 503, "model_load": 503}

# Korean stays readable in the body (UTF-8, as the Content-Type says), not \uXXXX escapes.
dumps = functools.partial(json.dumps, ensure_ascii=False)


def json_reply(body: BaseModel, *, status: int = 200) -> web.Response:
    """`body` serialised by its model, as application/json."""
    return web.json_response(text=body.model_dump_json(), status=status)


def json_document(document: dict[str, Any]) -> web.Response:
    """A plain JSON document (the OpenAPI description), as application/json."""
    return web.json_response(document, dumps=dumps)


def error_response(error: VoiceMoodError, lang: str, *, status: int | None = None) -> web.Response:
    """The polite JSON error for a typed error, with the status and headers it calls for."""
    key = _SENTENCES.get(error.code)
    message = t(lang, key) if key else render_error(error, lang)
    if status is None:
        status = _status(error)
    response = json_reply(ErrorBody(error=message, code=error.code), status=status)
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
    return error_response(error, language(request))


def _status(error: VoiceMoodError) -> int:
    if isinstance(error, WebRequestError):
        return error.status
    if isinstance(error, Busy | InferenceTimeout):
        return 503
    if error.code in _STATUS:
        return _STATUS[error.code]
    return 422 if isinstance(error, AudioError) else 500
