"""What every handler reads from its request: the app's shared parts and the visitor's language.

The app keys live here, apart from the server that sets them, so handlers need not import the
server (which imports the handlers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bots.core.service import VoiceMoodService
from bots.web.errors import BadRequest
from bots.web.gate import UploadGate
from bots.web.language import choose_language
from bots.web.visitors import WebVisitors

Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True)
class WebConfig:
    max_bytes: int
    default_language: str


VISITORS = web.AppKey("visitors", WebVisitors)
CONFIG = web.AppKey("config", WebConfig)
GATE = web.AppKey("gate", UploadGate)


def language(request: web.Request, requested: str | None = None) -> str:
    """The request's language: an explicit choice, else `?lang=`, else Accept-Language, else the default."""
    return choose_language(
        requested or request.query.get("lang"),
        request.headers.get("Accept-Language"),
        request.app[CONFIG].default_language,
    )


def service(request: web.Request) -> VoiceMoodService:
    """The service the bots share, for handlers that run the bots' own commands."""
    return request.app[VISITORS].service


async def read_json(request: web.Request, model: type[Body]) -> Body:
    """The request's JSON body, read into `model`; BadRequest when it is not what `model` says."""
    try:
        body = await request.json()
    except (ValueError, web.HTTPRequestEntityTooLarge):
        raise BadRequest("The body is not a small JSON object.") from None
    return parse(model, body)


def parse(model: type[Body], data: object) -> Body:
    """`data` (a JSON body, a form's fields) read into `model`; BadRequest when it does not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequest(f"The body is not a {model.__name__}: {error}") from None
