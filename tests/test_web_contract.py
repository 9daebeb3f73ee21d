"""Every route of a running web app answers what its served /openapi.json says.

Each real response (successes and errors alike) is checked against the schema the served document
declares for its route, status and content type, and every (route, status) the document declares
must have been seen, so a new route or status cannot go undescribed or unchecked.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from jsonschema import Draft202012Validator

from bots.i18n import t
from tests.web_factory import RunningWeb, running_web

LIMIT = 200 * 1024
OTHER_SITE = {"Origin": "https://attacker.example"}


class Contract:
    """Requests a running app, and checks each answer against the document the app serves."""

    def __init__(self, site: RunningWeb, client: aiohttp.ClientSession, spec: dict[str, Any]):
        self.site, self.client, self.spec = site, client, spec
        self.seen: set[tuple[str, str, str]] = set()

    async def call(
        self,
        method: str,
        route: str,
        path: str | None = None,
        *,
        client: aiohttp.ClientSession | None = None,
        **options: Any,
    ) -> tuple[int, Any]:
        """`method` on `path` (default: the route itself); the checked status and body."""
        url = self.site.web.url.rstrip("/") + (path or route)
        async with (client or self.client).request(method, url, **options) as response:
            raw = await response.read()
            status, content_type = response.status, response.content_type
        body = json.loads(raw) if content_type == "application/json" else raw.decode()
        self.check(method, route, status, content_type, body)
        return status, body

    def check(self, method: str, route: str, status: int, content_type: str, body: Any) -> None:
        operation = self.spec["paths"][route][method.lower()]
        declared = operation["responses"].get(str(status))
        assert declared is not None, f"{method} {route} answered {status}, which is not described"
        media = declared.get("content", {}).get(content_type)
        assert media is not None, f"{method} {route} {status}: {content_type} is not described"
        schema = {**media["schema"], "components": self.spec["components"]}
        Draft202012Validator(schema).validate(body)
        self.seen.add((route, method.lower(), str(status)))

    def described(self) -> set[tuple[str, str, str]]:
        return {
            (route, method, status)
            for route, operations in self.spec["paths"].items()
            for method, operation in operations.items()
            for status in operation["responses"]
        }


@pytest.fixture
async def contract(tiny_hubert_dir, tmp_path):
    async with running_web(tiny_hubert_dir, tmp_path, max_bytes=LIMIT) as site:
        jar = aiohttp.CookieJar(unsafe=True)  # keep cookies from 127.0.0.1, as browsers do
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            async with client.get(site.web.url + "openapi.json") as response:
                spec = await response.json()
            checked = Contract(site, client, spec)
            checked.check("GET", "/openapi.json", response.status, response.content_type, spec)
            yield checked


async def test_every_route_answers_what_the_served_document_declares(contract, make_audio):
    note = make_audio("note.ogg", 2.0).read_bytes()
    async with aiohttp.ClientSession() as stranger:
        await _analysing(contract, note, stranger)
        await _me(contract, stranger)
        await _practice(contract, note, stranger)
        await _when_the_worker_stops(contract, note)
    assert contract.seen == contract.described()


async def _analysing(contract: Contract, note: bytes, stranger: aiohttp.ClientSession) -> None:
    call = contract.call
    status, answer = await call("POST", "/api/analyse", data=_form(note, remember="yes"))
    assert status == 200 and answer["remembered"] is True  # "yes" ticks the box, as documented
    status, answer = await call("POST", "/api/analyse", data=_form(note, donate="true", lang="ko"))
    assert status == 200 and answer["donated"] is True
    assert (await call("POST", "/api/analyse", json={"audio": "x"}))[0] == 400
    assert (await call("POST", "/api/analyse", data=_form(b"")))[0] == 422
    assert (await call("POST", "/api/analyse", data=_form(note), headers=OTHER_SITE))[0] == 403
    await _declared_too_large(contract, "/api/analyse")

    vote = {"label": "sad", "note_id": answer["note_id"]}
    status, body = await call("POST", "/api/feedback", json=vote)
    assert status == 200 and body["stored"] is True
    status, body = await call("POST", "/api/feedback", json={"label": "sad", "lang": "ko"})
    assert status == 200 and body["stored"] is False
    for wrong in ({"label": "hangry"}, {"label": "sad", "note_id": "1"}, ["sad"]):
        assert (await call("POST", "/api/feedback", json=wrong))[0] == 400
    assert (await call("POST", "/api/feedback", json=vote, client=stranger))[0] == 404
    assert (await call("POST", "/api/feedback", json=vote, headers=OTHER_SITE))[0] == 403
    assert (await call("POST", "/api/forget", headers=OTHER_SITE))[0] == 403
    place = {"valence": answer["valence"], "arousal": answer["arousal"]}
    status, songs = await call("POST", "/api/music", json={**place, "mode": "lift", "lang": "ko"})
    assert status == 200 and len(songs["songs"]) == 3
    assert (await call("POST", "/api/music", json={**place, "valence": 2}))[0] == 400
    assert (await call("POST", "/api/music", json=place, headers=OTHER_SITE))[0] == 403
    for lang in ("en", "ko"):
        assert (await call("GET", "/api/messages", f"/api/messages?lang={lang}"))[0] == 200
    assert (await call("GET", "/healthz"))[0] == 200


async def _me(contract: Contract, stranger: aiohttp.ClientSession) -> None:
    call = contract.call
    status, me = await call("GET", "/api/me")
    assert status == 200 and me["remembered"] is True
    assert (await call("GET", "/api/me", client=stranger))[1]["remembered"] is False
    history = "/api/me/history"
    assert (await call("GET", history, f"{history}?period=month&lang=ko"))[0] == 200
    assert (await call("GET", history, f"{history}?period=year"))[0] == 400
    assert (await call("GET", history, client=stranger))[0] == 404
    for kind in ("csv", "json"):
        path = f"/api/me/export.{kind}"
        assert (await call("GET", "/api/me/export.{kind}", path))[0] == 200
        assert (await call("GET", "/api/me/export.{kind}", path, client=stranger))[0] == 404

    words = "/api/me/words"
    status, body = await call("POST", words, json={"label": "happy", "word": "sunny"})
    assert status == 200 and body["words"] == {"happy": "sunny"}
    assert (await call("POST", words, json={"reset": True}))[1]["words"] == {}
    assert (await call("POST", words, json={"label": "hangry", "word": "x"}))[0] == 400
    assert (await call("POST", words, json={"label": "happy", "word": "x"}, client=stranger))[
        0
    ] == 404
    assert (await call("POST", words, json={"reset": True}, headers=OTHER_SITE))[0] == 403


async def _practice(contract: Contract, note: bytes, stranger: aiohttp.ClientSession) -> None:
    call = contract.call
    assert (await call("GET", "/api/practice"))[1]["round"] is None
    status, started = await call("POST", "/api/practice/start", json={"tone": "sad"})
    assert status == 200 and started["round"]["tone"] == "sad"
    assert (await call("GET", "/api/practice"))[1]["round"] == started["round"]
    assert (await call("POST", "/api/practice/start", json={"tone": "bored"}))[0] == 400
    assert (await call("POST", "/api/practice/start", json={}, headers=OTHER_SITE))[0] == 403

    attempt = "/api/practice/attempt"
    status, heard = await call("POST", attempt, data=_form(note, lang="ko"))
    assert status == 200 and heard["target"] == "sad"
    assert (await call("POST", attempt, data=_form(b"")))[0] == 422
    assert (await call("POST", attempt, data=_form(note, field="file")))[0] == 400
    assert (await call("POST", attempt, data=_form(note), client=stranger))[0] == 409
    assert (await call("POST", attempt, data=_form(note), headers=OTHER_SITE))[0] == 403
    await _declared_too_large(contract, attempt)

    stop = "/api/practice/stop"
    assert (await call("POST", stop, headers=OTHER_SITE))[0] == 403
    bad = {"data": b"{not json", "headers": {"Content-Type": "application/json"}}
    assert (await call("POST", stop, **bad))[0] == 400
    status, stopped = await call("POST", stop, json={"lang": "ko"})
    assert status == 200 and stopped["summary"]["rounds"] == 1
    status, stopped = await call("POST", stop)
    assert status == 200 and stopped["summary"] is None
    await call("POST", "/api/practice/start", json={})  # left open for the worker's stop


async def _when_the_worker_stops(contract: Contract, note: bytes) -> None:
    await contract.site.service.analyzer.worker.close()
    call = contract.call
    assert (await call("GET", "/healthz"))[0] == 503
    status, busy = await call("POST", "/api/analyse", data=_form(note))
    assert (status, busy["code"]) == (503, "busy")
    assert (await call("POST", "/api/practice/attempt", data=_form(note)))[0] == 503
    status, body = await call("POST", "/api/forget")
    assert status == 200 and body["message"] != t("en", "forget.nothing")


def _form(data: bytes, *, field: str = "audio", **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData(fields)
    form.add_field(field, data, filename="note.ogg", content_type="audio/ogg")
    return form


async def _declared_too_large(contract: Contract, route: str) -> None:
    """An upload that declares more than the limit: answered before its body is sent."""
    url = urlsplit(contract.site.web.url)
    head = (
        f"POST {route} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        "Content-Type: multipart/form-data; boundary=B\r\n"
        f"Content-Length: {50 * LIMIT}\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head.encode())
        await writer.drain()
        async with asyncio.timeout(10):
            status = int((await reader.readline()).split()[1])
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            body = json.loads(await reader.readexactly(int(headers["content-length"])))
    finally:
        writer.close()
    content_type = headers["content-type"].split(";")[0]
    contract.check("POST", route, status, content_type, body)
    assert status == 413
