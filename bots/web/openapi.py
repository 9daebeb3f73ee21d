"""The API's OpenAPI 3.1 description: the paths table by hand, every schema generated from the
body models (bots.web.bodies) that the handlers read and answer through.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bots.web import bodies as b
from bots.web.session import SESSION_COOKIE

_SCHEMAS = "#/components/schemas/"
# Request bodies are described as they are read, responses as they are written.
_READ: tuple[type[BaseModel], ...] = (
    b.AnalyseForm,
    b.FeedbackRequest,
    b.WordsRequest,
    b.PracticeStartRequest,
    b.PracticeAttemptForm,
    b.PracticeStopRequest,
    b.MusicRequest,
)
_WRITTEN: tuple[type[BaseModel], ...] = (
    b.Answer,
    b.FeedbackAnswer,
    b.Forgotten,
    b.Health,
    b.Catalogue,
    b.ErrorBody,
    b.Me,
    b.History,
    b.Words,
    b.PracticeState,
    b.PracticeStarted,
    b.PracticeAttempt,
    b.PracticeStopped,
    b.MusicAnswer,
)


def openapi(max_bytes: int) -> dict[str, Any]:
    """The description served at /openapi.json; `max_bytes` is the upload limit in force."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "VoiceMood",
            "version": "1",
            "summary": "How the tone of a voice recording sounds: an emotion, how sure, and how it moved.",
            "description": (
                "Replies describe how a voice sounds, not what anyone feels. Nothing is stored "
                "unless `remember` or `donate` is true; then the answer (and, donated, the "
                "recording) is kept under an anonymous session cookie."
            ),
        },
        "paths": _paths(max_bytes),
        "components": {
            "schemas": components(),
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "Set when something is first kept; names the anonymous visitor.",
                }
            },
        },
    }


@functools.cache
def components() -> dict[str, Any]:
    """Every body model's JSON schema (and the schemas they share), by name."""
    modes: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((model, "validation") for model in _READ),
        *((model, "serialization") for model in _WRITTEN),
    ]
    _, schema = models_json_schema(modes, ref_template=_SCHEMAS + "{model}")
    return dict(schema["$defs"])


def _paths(max_bytes: int) -> dict[str, Any]:
    return {
        "/api/analyse": {
            "post": {
                "summary": "Analyse one recording.",
                "operationId": "analyse",
                "description": (
                    f"Any audio ffmpeg reads (ogg/opus, webm, mp3, m4a, wav, flac, mp4), at most "
                    f"{max_bytes} bytes; a larger upload gets 413 without being read."
                ),
                "requestBody": _upload(b.AnalyseForm),
                "responses": {"200": _json("The answer.", b.Answer), **_UPLOAD_ERRORS},
            }
        },
        "/api/feedback": {
            "post": {
                "summary": "Say what the tone really sounded like.",
                "operationId": "feedback",
                "description": "Stored only for a note donated from the same session; otherwise thanked.",
                "security": _ANYONE,
                "requestBody": _body(b.FeedbackRequest),
                "responses": {
                    "200": _json("Recorded or thanked.", b.FeedbackAnswer),
                    "400": _error("Not JSON, or an unknown label."),
                    "403": _CROSS_SITE,
                    "404": _error("The note is not stored, or not this session's."),
                },
            }
        },
        "/api/music": {
            "post": {
                "summary": "Three songs for an answer's place on the valence/arousal plane.",
                "operationId": "music",
                "description": (
                    "`match`: near the place; `lift`: a step from it toward calm and pleasant. "
                    "Songs in `avoid` (the last three shown) are left out. Nothing is stored."
                ),
                "security": _ANYONE,
                "requestBody": _body(b.MusicRequest),
                "responses": {
                    "200": _json("Three songs.", b.MusicAnswer),
                    "400": _error("Not JSON, or a place off the plane."),
                    "403": _CROSS_SITE,
                },
            }
        },
        "/api/forget": {
            "post": {
                "summary": "Delete everything kept for this session (remembered or donated).",
                "operationId": "forget",
                "security": _ANYONE,
                "parameters": [_LANG],
                "responses": {"200": _json("What was deleted.", b.Forgotten), "403": _CROSS_SITE},
            }
        },
        "/api/messages": {
            "get": {
                "summary": "The page's sentences in every language.",
                "operationId": "messages",
                "parameters": [_LANG],
                "responses": {"200": _json("The catalogue.", b.Catalogue)},
            }
        },
        **_me_paths(),
        **_practice_paths(),
        "/healthz": {
            "get": {
                "summary": "Whether the inference worker runs, and which model it serves.",
                "operationId": "health",
                "responses": {
                    "200": _json("Running.", b.Health),
                    "503": _json("The worker is stopped.", b.Health),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This description.",
                "operationId": "openapi",
                "responses": {"200": _content("The OpenAPI document.", {"type": "object"})},
            }
        },
    }


def _me_paths() -> dict[str, Any]:
    return {
        "/api/me": {
            "get": {
                "summary": "Whether this browser is remembered, and its words for tones.",
                "operationId": "me",
                "security": _ANYONE,
                "parameters": [_LANG],
                "responses": {"200": _json("The state.", b.Me)},
            }
        },
        "/api/me/history": {
            "get": {
                "summary": "The remembered answers' history: /history's caption and chart.",
                "operationId": "meHistory",
                "security": _REMEMBERED,
                "parameters": [
                    _LANG,
                    {
                        "name": "period",
                        "in": "query",
                        "schema": {"enum": ["week", "month"], "default": "week"},
                    },
                ],
                "responses": {
                    "200": _json("Caption and chart.", b.History),
                    "400": _error("An unknown period."),
                    "404": _NOT_REMEMBERED,
                },
            }
        },
        "/api/me/export.{kind}": {
            "get": {
                "summary": "Everything kept about this browser, as /export's CSV or JSON file.",
                "operationId": "meExport",
                "security": _REMEMBERED,
                "parameters": [
                    _LANG,
                    {
                        "name": "kind",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": ["csv", "json"]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The file, as an attachment.",
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            "application/json": {"schema": {"type": "object"}},
                        },
                    },
                    "404": _NOT_REMEMBERED,
                },
            }
        },
        "/api/me/words": {
            "post": {
                "summary": "Choose a word for a tone (as /words), or go back to the usual names.",
                "operationId": "meWords",
                "description": (
                    "A browser not yet remembered is remembered only with `remember: true` "
                    "(its box is ticked); the new session cookie comes with the answer."
                ),
                "security": _ANYONE,
                "requestBody": _body(b.WordsRequest),
                "responses": {
                    "200": _json("The words now kept.", b.Words),
                    "400": _error("Not JSON, or an unknown tone."),
                    "403": _CROSS_SITE,
                    "404": _NOT_REMEMBERED,
                },
            }
        },
    }


def _practice_paths() -> dict[str, Any]:
    return {
        "/api/practice": {
            "get": {
                "summary": "The practice round waiting for an attempt (null: none), and the tones.",
                "operationId": "practice",
                "security": _ANYONE,
                "parameters": [_LANG],
                "responses": {"200": _json("The state.", b.PracticeState)},
            }
        },
        "/api/practice/start": {
            "post": {
                "summary": "Start a round: a tone (given or picked) and a sentence to say.",
                "operationId": "practiceStart",
                "description": (
                    "Starting is the visitor's opt-in to a practice score (counts only), kept "
                    "under the session cookie, which comes with the answer when new."
                ),
                "security": _ANYONE,
                "requestBody": _body(b.PracticeStartRequest),
                "responses": {
                    "200": _json("The round.", b.PracticeStarted),
                    "400": _error("Not JSON, or a tone that cannot be practised."),
                    "403": _CROSS_SITE,
                },
            }
        },
        "/api/practice/attempt": {
            "post": {
                "summary": "Hear one attempt at the open round; the recording is never kept.",
                "operationId": "practiceAttempt",
                "security": _REMEMBERED,
                "requestBody": _upload(b.PracticeAttemptForm),
                "responses": {
                    "200": _json("What was heard.", b.PracticeAttempt),
                    **_UPLOAD_ERRORS,
                    "409": _error("No practice round is open for this browser."),
                },
            }
        },
        "/api/practice/stop": {
            "post": {
                "summary": "End the session with its summary.",
                "operationId": "practiceStop",
                "security": _REMEMBERED,
                "parameters": [_LANG],
                "requestBody": {**_body(b.PracticeStopRequest), "required": False},
                "responses": {
                    "200": _json(
                        "The summary (null, with a message, when no session was open).",
                        b.PracticeStopped,
                    ),
                    "400": _error("A body that is not JSON."),
                    "403": _CROSS_SITE,
                },
            }
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _SCHEMAS + name}


def _content(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _json(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return _content(description, _ref(model.__name__))


def _error(description: str) -> dict[str, Any]:
    return _json(description, b.ErrorBody)


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model.__name__)}}}


def _upload(model: type[BaseModel]) -> dict[str, Any]:
    form = {
        "schema": _ref(model.__name__),
        "encoding": {"audio": {"contentType": "audio/*, video/mp4, application/octet-stream"}},
    }
    return {"required": True, "content": {"multipart/form-data": form}}


_LANG = {"name": "lang", "in": "query", "schema": _ref("Language")}
_ANYONE: list[dict[str, list[str]]] = [{}, {"session": []}]
_REMEMBERED: list[dict[str, list[str]]] = [{"session": []}]
_CROSS_SITE = _error("Sent by a page of another site (its Origin or Sec-Fetch-Site says so).")
_NOT_REMEMBERED = _error("Nothing is remembered for this browser (no opt-in, or forgotten).")
_UPLOAD_ERRORS = {
    "400": _error("Not a multipart form, or no `audio` file in it."),
    "403": _CROSS_SITE,
    "413": _error("The upload is over the size limit."),
    "422": _error("The file is empty, not audio, silent, too short or too long."),
    "503": {
        **_error("Busy (or the model is not available); try again after Retry-After."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}
