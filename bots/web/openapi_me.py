"""The OpenAPI description of the "Me" endpoints (bots.web.me) and of the cue reading on answers."""

from __future__ import annotations

from typing import Any

from inference.cues import CUE_NAMES
from inference.labels import CANONICAL_LABELS

_LANG = {"name": "lang", "in": "query", "schema": {"$ref": "#/components/schemas/Language"}}
_ERROR = {"$ref": "#/components/schemas/Error"}
_NOT_REMEMBERED = {
    "description": "Nothing is remembered for this browser (no opt-in, or forgotten).",
    "content": {"application/json": {"schema": _ERROR}},
}
_SESSION: list[dict[str, list[str]]] = [{"session": []}]


def me_paths() -> dict[str, Any]:
    """/api/me and below."""
    return {
        "/api/me": {
            "get": {
                "summary": "Whether this browser is remembered, and its words for tones.",
                "operationId": "me",
                "security": [{}, *_SESSION],
                "parameters": [_LANG],
                "responses": {"200": _json("The state.", {"$ref": "#/components/schemas/Me"})},
            }
        },
        "/api/me/history": {
            "get": {
                "summary": "The remembered answers' history: /history's caption and chart.",
                "operationId": "meHistory",
                "security": _SESSION,
                "parameters": [
                    _LANG,
                    {
                        "name": "period",
                        "in": "query",
                        "schema": {"enum": ["week", "month"], "default": "week"},
                    },
                ],
                "responses": {
                    "200": _json("Caption and chart.", {"$ref": "#/components/schemas/History"}),
                    "400": _json("An unknown period.", _ERROR),
                    "404": _NOT_REMEMBERED,
                },
            }
        },
        "/api/me/export.{kind}": {
            "get": {
                "summary": "Everything kept about this browser, as /export's CSV or JSON file.",
                "operationId": "meExport",
                "security": _SESSION,
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
                "security": [{}, *_SESSION],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/WordsRequest"}
                        }
                    },
                },
                "responses": {
                    "200": _json("The words now kept.", {"$ref": "#/components/schemas/Words"}),
                    "400": _json("Not JSON, or an unknown tone.", _ERROR),
                    "403": _json("Sent by a page of another site.", _ERROR),
                    "404": _NOT_REMEMBERED,
                },
            }
        },
    }


def me_schemas() -> dict[str, Any]:
    """The schemas the paths above use, and the answer's cue reading."""
    words = {
        "type": "object",
        "propertyNames": {"enum": list(CANONICAL_LABELS)},
        "additionalProperties": {"type": "string"},
        "description": "The visitor's own word per tone (label -> word).",
    }
    return {
        "Me": {
            "type": "object",
            "required": ["remembered", "words", "message"],
            "properties": {
                "remembered": {"type": "boolean"},
                "words": words,
                "message": {"type": "string"},
            },
        },
        "History": {
            "type": "object",
            "required": ["text", "chart"],
            "properties": {
                "text": {"type": "string"},
                "chart": {
                    "type": ["string", "null"],
                    "description": "A data: URL of the PNG chart; null when nothing to draw.",
                },
            },
        },
        "WordsRequest": {
            "type": "object",
            "properties": {
                "label": {"type": "string", "description": "A tone's key or name, any language."},
                "word": {"type": "string", "maxLength": 32},
                "reset": {"type": "boolean"},
                "remember": {"type": "boolean"},
                "lang": {"$ref": "#/components/schemas/Language"},
            },
        },
        "Words": {
            "type": "object",
            "required": ["message", "words"],
            "properties": {"message": {"type": "string"}, "words": words},
        },
        "CueReading": {
            "type": "object",
            "required": ["against", "departures", "line"],
            "properties": {
                "against": {"enum": ["own", "typical", None]},
                "departures": {
                    "type": "object",
                    "required": list(CUE_NAMES),
                    "additionalProperties": {"type": ["number", "null"]},
                    "description": "Each cue's distance from the reference in its own tolerance:"
                    " beyond +-1 the word is higher or lower.",
                },
                "line": {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "null"]},
                    "description": "The bots' one-line cue sentence, per language.",
                },
            },
        },
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
