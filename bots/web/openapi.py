"""The API's OpenAPI 3.1 description, written by hand (it is small and changes with the code here)."""

from __future__ import annotations

from typing import Any

from bots.core.buttons import PICKABLE_LABELS
from bots.web.openapi_me import me_paths, me_schemas
from bots.web.openapi_practice import practice_paths, practice_schemas
from inference.cues import CUE_NAMES
from inference.labels import CANONICAL_LABELS


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
        "paths": {
            "/api/analyse": {"post": _analyse(max_bytes)},
            "/api/feedback": {"post": _feedback()},
            "/api/forget": {"post": _forget()},
            "/api/messages": {"get": _messages()},
            **me_paths(),
            **practice_paths(),
            "/healthz": {"get": _health()},
            "/openapi.json": {
                "get": {
                    "summary": "This description.",
                    "operationId": "openapi",
                    "responses": {"200": _json("The OpenAPI document.", {"type": "object"})},
                }
            },
        },
        "components": {
            "schemas": {**_schemas(), **me_schemas(), **practice_schemas()},
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "vm_session",
                    "description": "Set on the first donated analysis; names the anonymous donor.",
                }
            },
        },
    }


def _analyse(max_bytes: int) -> dict[str, Any]:
    return {
        "summary": "Analyse one recording.",
        "operationId": "analyse",
        "description": (
            f"Any audio ffmpeg reads (ogg/opus, webm, mp3, m4a, wav, flac, mp4), at most "
            f"{max_bytes} bytes; a larger upload gets 413 without being read."
        ),
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
                            "remember": {
                                "type": "string",
                                "enum": ["true", "false", "1", "0", "on", "off"],
                                "description": "Keep this answer (never the recording) for this browser's history, export and words.",
                            },
                            "donate": {
                                "type": "string",
                                "enum": ["true", "false", "1", "0", "on", "off"],
                                "description": "Keep this recording, its answer and later votes for retraining.",
                            },
                        },
                    },
                    "encoding": {
                        "audio": {"contentType": "audio/*, video/mp4, application/octet-stream"}
                    },
                }
            },
        },
        "responses": {
            "200": _json("The answer.", {"$ref": "#/components/schemas/Answer"}),
            "400": _error("Not a multipart form, or no `audio` file in it."),
            "403": _CROSS_SITE,
            "413": _error("The upload is over the size limit."),
            "422": _error("The file is empty, not audio, silent, too short or too long."),
            "503": {
                **_error("Busy (or the model is not available); try again after Retry-After."),
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            },
        },
    }


def _feedback() -> dict[str, Any]:
    return {
        "summary": "Say what the tone really sounded like.",
        "operationId": "feedback",
        "description": "Stored only for a note donated from the same session; otherwise thanked.",
        "security": [{}, {"session": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/FeedbackRequest"}}
            },
        },
        "responses": {
            "200": _json("Recorded or thanked.", {"$ref": "#/components/schemas/FeedbackAnswer"}),
            "400": _error("Not JSON, or an unknown label."),
            "403": _CROSS_SITE,
            "404": _error("The note is not stored, or not this session's."),
        },
    }


def _forget() -> dict[str, Any]:
    return {
        "summary": "Delete everything kept for this session (remembered or donated).",
        "operationId": "forget",
        "security": [{}, {"session": []}],
        "parameters": [_lang_query()],
        "responses": {
            "200": _json(
                "What was deleted.",
                {
                    "type": "object",
                    "required": ["message"],
                    "properties": {"message": {"type": "string"}},
                },
            ),
            "403": _CROSS_SITE,
        },
    }


def _messages() -> dict[str, Any]:
    return {
        "summary": "The page's sentences in every language.",
        "operationId": "messages",
        "responses": {"200": _json("The catalogue.", {"type": "object"})},
    }


def _health() -> dict[str, Any]:
    health = {"$ref": "#/components/schemas/Health"}
    return {
        "summary": "Whether the inference worker runs, and which model it serves.",
        "operationId": "health",
        "responses": {
            "200": _json("Running.", health),
            "503": _json("The worker is stopped.", health),
        },
    }


def _schemas() -> dict[str, Any]:
    label = {"type": "string", "enum": list(CANONICAL_LABELS)}
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    return {
        "Language": {"type": "string", "enum": ["en", "ko"]},
        "Answer": {
            "type": "object",
            "required": [
                "file",
                "label",
                "confidence",
                "not_sure",
                "probabilities",
                "top",
                "valence",
                "arousal",
                "duration_s",
                "model",
                "timeline",
                "cues",
                "text",
                "donated",
                "remembered",
                "note_id",
                "cue_reading",
                "words",
            ],  # fmt: skip
            "properties": {
                "file": {"type": "string"},
                "label": label,
                "confidence": probability,
                "not_sure": {"type": "boolean"},
                "probabilities": {"type": "object", "additionalProperties": probability},
                "top": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"label": label, "probability": probability},
                    },
                },
                "valence": {"type": "number", "minimum": -1, "maximum": 1},
                "arousal": {"type": "number", "minimum": -1, "maximum": 1},
                "duration_s": {"type": "number"},
                "model": {"type": "string"},
                "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/Segment"}},
                "cues": {"$ref": "#/components/schemas/Cues"},
                "text": {"type": "string", "description": "The bots' sentence for this answer."},
                "donated": {"type": "boolean"},
                "remembered": {"type": "boolean", "description": "the answer is kept"},
                "note_id": {"type": ["integer", "null"]},
                "cue_reading": {"$ref": "#/components/schemas/CueReading"},
                "words": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "Cues": {
            "type": "object",
            "description": "The voice cues behind the tone, each read against a reference.",
            "required": list(CUE_NAMES),
            "properties": {
                name: {"$ref": "#/components/schemas/Cue", "description": meaning}
                for name, meaning in (
                    ("pitch_hz", "median F0 of voiced frames, Hz"),
                    ("pitch_range_st", "10th-90th percentile of F0, semitones"),
                    ("loudness_db", "RMS of voiced frames, dB relative to full scale"),
                    ("speech_rate", "syllable-like nuclei per second of speech"),
                    ("pause_share", "share of the note (first to last speech) that is pause"),
                )
            },
        },
        "Cue": {
            "type": "object",
            "required": ["value", "usual", "word"],
            "properties": {
                "value": {"type": ["number", "null"], "description": "null: not measurable"},
                "usual": {
                    "type": ["number", "null"],
                    "description": "the speaker's usual value (with /baseline), else typical",
                },
                "word": {"enum": ["higher", "lower", "typical", None]},
            },
        },
        "Segment": {
            "type": "object",
            "properties": {
                "start_s": {"type": "number"},
                "end_s": {"type": "number"},
                "label": label,
                "confidence": probability,
                "not_sure": {
                    "type": "boolean",
                    "description": "confidence is below the threshold: a guess, not a reading",
                },
            },
        },
        "FeedbackRequest": {
            "type": "object",
            "required": ["label"],
            "properties": {
                "label": {"type": "string", "enum": list(PICKABLE_LABELS)},
                "note_id": {"type": ["integer", "null"]},
                "lang": {"$ref": "#/components/schemas/Language"},
            },
        },
        "FeedbackAnswer": {
            "type": "object",
            "required": ["stored", "message"],
            "properties": {"stored": {"type": "boolean"}, "message": {"type": "string"}},
        },
        "Health": {
            "type": "object",
            "required": ["status", "model"],
            "properties": {"status": {"enum": ["ok", "stopped"]}, "model": {"type": "string"}},
        },
        "Error": {
            "type": "object",
            "required": ["error", "code"],
            "properties": {
                "error": {"type": "string", "description": "A polite sentence to show."},
                "code": {"type": "string"},
            },
        },
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(description, {"$ref": "#/components/schemas/Error"})


_CROSS_SITE = _error("Sent by a page of another site (its Origin or Sec-Fetch-Site says so).")


def _lang_query() -> dict[str, Any]:
    return {"name": "lang", "in": "query", "schema": {"$ref": "#/components/schemas/Language"}}
