"""The anonymous session cookie: a random token naming a visitor who chose to be remembered."""

from __future__ import annotations

import re

from aiohttp import web

SESSION_COOKIE = "vm_session"
_SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SESSION_MAX_AGE = 365 * 24 * 3600


def session(request: web.Request) -> str | None:
    """The request's session token, when its cookie holds a well-formed one."""
    token = request.cookies.get(SESSION_COOKIE)
    return token if token and _SESSION_RE.match(token) else None


def set_session(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """The session cookie, once something is kept under it (never readable by scripts)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=_SESSION_MAX_AGE,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def clear_session(response: web.StreamResponse) -> None:
    """Tell the browser to drop the cookie (after forgetting what was kept under it)."""
    response.del_cookie(SESSION_COOKIE, samesite="Strict", httponly=True)
