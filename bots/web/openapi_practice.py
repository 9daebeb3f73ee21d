"""The OpenAPI description of the Practice endpoints (bots.web.practice)."""

from __future__ import annotations

from typing import Any

_LANG = {"name": "lang", "in": "query", "schema": {"$ref": "#/components/schemas/Language"}}
_ERROR = {"$ref": "#/components/schemas/Error"}
_SESSION: list[dict[str, list[str]]] = [{"session": []}]
_PER_LANGUAGE = {"type": "object", "additionalProperties": {"type": "string"}}


def practice_paths() -> dict[str, Any]:
    """/api/practice and below."""
    return {
        "/api/practice": {
            "get": {
                "summary": "The practice round waiting for an attempt (null: none), and the tones.",
                "operationId": "practice",
                "security": [{}, *_SESSION],
                "parameters": [_LANG],
                "responses": {
                    "200": _json(
                        "The state.",
                        {
                            "type": "object",
                            "required": ["round", "tones"],
                            "properties": {
                                "round": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/PracticeRound"},
                                        {"type": "null"},
                                    ]
                                },
                                "tones": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    )
                },
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
                "security": [{}, *_SESSION],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "tone": {"type": "string"},
                                    "lang": {"$ref": "#/components/schemas/Language"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        "The round.",
                        {
                            "type": "object",
                            "required": ["round"],
                            "properties": {"round": {"$ref": "#/components/schemas/PracticeRound"}},
                        },
                    ),
                    "400": _json("Not JSON, or a tone that cannot be practised.", _ERROR),
                    "403": _json("Sent by a page of another site.", _ERROR),
                },
            }
        },
        "/api/practice/attempt": {
            "post": {
                "summary": "Hear one attempt at the open round; the recording is never kept.",
                "operationId": "practiceAttempt",
                "security": _SESSION,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["audio"],
                                "properties": {
                                    "audio": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    },
                                    "lang": {"$ref": "#/components/schemas/Language"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        "What was heard.", {"$ref": "#/components/schemas/PracticeAttempt"}
                    ),
                    "400": _json("Not a multipart form, or no `audio` file in it.", _ERROR),
                    "403": _json("Sent by a page of another site.", _ERROR),
                    "409": _json("No practice round is open for this browser.", _ERROR),
                    "413": _json("The upload is over the size limit.", _ERROR),
                    "422": _json(
                        "The file is empty, not audio, silent, too short or too long.", _ERROR
                    ),
                    "503": _json("Busy; try again after Retry-After.", _ERROR),
                },
            }
        },
        "/api/practice/stop": {
            "post": {
                "summary": "End the session with its summary.",
                "operationId": "practiceStop",
                "security": _SESSION,
                "parameters": [_LANG],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"lang": {"$ref": "#/components/schemas/Language"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        "The summary (null, with a message, when no session was open).",
                        {
                            "type": "object",
                            "required": ["summary", "message"],
                            "properties": {
                                "summary": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/PracticeSummary"},
                                        {"type": "null"},
                                    ]
                                },
                                "message": {"type": ["string", "null"]},
                            },
                        },
                    ),
                    "403": _json("Sent by a page of another site.", _ERROR),
                },
            }
        },
    }


def practice_schemas() -> dict[str, Any]:
    tally = {
        "type": "object",
        "required": ["tone", "hits", "attempts"],
        "properties": {
            "tone": {"type": "string"},
            "hits": {"type": "integer", "minimum": 0},
            "attempts": {"type": "integer", "minimum": 0},
        },
    }
    return {
        "PracticeTally": tally,
        "PracticeRound": {
            "type": "object",
            "required": ["tone", "number", "sentence", "text"],
            "properties": {
                "tone": {"type": "string"},
                "number": {"type": "integer", "minimum": 1},
                "sentence": {**_PER_LANGUAGE, "description": "The sentence to say, per language."},
                "text": {**_PER_LANGUAGE, "description": "The bots' round message, per language."},
            },
        },
        "PracticeAttempt": {
            "type": "object",
            "required": [
                "target",
                "heard",
                "confidence",
                "not_sure",
                "hit",
                "hint",
                "score",
                "text",
            ],
            "properties": {
                "target": {"type": "string"},
                "heard": {"type": "string"},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "not_sure": {"type": "boolean"},
                "top": {"type": "array", "items": {"type": "object"}},
                "hit": {"type": "boolean"},
                "hint": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["cue", "direction"],
                            "properties": {
                                "cue": {"type": "string"},
                                "direction": {"enum": ["higher", "lower"]},
                            },
                        },
                        {"type": "null"},
                    ]
                },
                "score": {
                    "oneOf": [{"$ref": "#/components/schemas/PracticeTally"}, {"type": "null"}]
                },
                "text": {
                    **_PER_LANGUAGE,
                    "description": "The bots' answer to the attempt, per language.",
                },
            },
        },
        "PracticeSummary": {
            "type": "object",
            "required": ["rounds", "session", "scores", "text"],
            "properties": {
                "rounds": {"type": "integer", "minimum": 0},
                "session": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/PracticeTally"},
                },
                "scores": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/PracticeTally"},
                },
                "text": _PER_LANGUAGE,
            },
        },
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
