"""Refusing state-changing requests that a browser says come from another site.

The donor cookie is SameSite=Strict, but that alone trusts every browser to honour it and every
route to need the cookie; a cross-site form could still post a donation or a vote. Browsers send
`Origin` on every POST and `Sec-Fetch-Site` on every request, so a POST whose `Origin` names
another host, or whose `Sec-Fetch-Site` is `cross-site`, is refused. A request with neither
(curl, scripts) is not a browser acting for somebody else, and keeps working.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from yarl import URL

from bots.web.errors import WebRequestError

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Refuse = Callable[[web.Request, WebRequestError], web.StreamResponse]


class CrossSite(WebRequestError):
    """A browser sent this request from a page of another site."""

    code = "cross_site"
    status = 403


def from_another_site(request: web.BaseRequest) -> bool:
    """Whether the browser says the request was made by a page of another site."""
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    if origin == "null":  # sandboxed frames, file: pages, redirects across sites
        return True
    # The host as the browser addressed this server (a TLS proxy may change the scheme, and
    # forwards Host), so the scheme is not compared.
    return URL(origin).host_port_subcomponent != URL(f"//{request.host}").host_port_subcomponent


def same_site_only(refuse: Refuse) -> Middleware:
    """A middleware answering `refuse(...)` to a state-changing request from another site."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in _SAFE_METHODS and from_another_site(request):
            return refuse(request, CrossSite("Requests from other sites are refused."))
        return await handler(request)

    return middleware
