"""The web page's HTTP API against a real aiohttp server, a tiny HuBERT and a SQLite file."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
import matplotlib.image as mpimg
import pytest
from openapi_spec_validator import validate
from yarl import URL

from bots.i18n import LANGUAGES, TEXT, t
from bots.web.context import GATE
from bots.web.gate import GateBusy, UploadGate
from bots.web.shell import STATIC_DIR
from inference.audio import decode
from tests.web_factory import RunningWeb, running_web

LIMIT = 200 * 1024
PAGE_FILES = (
    "/",
    "/static/app.css",
    "/static/app.js",
    "/static/NotoColorEmoji-page.woff",
    "/manifest.webmanifest",
    "/api/messages",
)


@pytest.fixture
async def site(tiny_hubert_dir, tmp_path):
    async with running_web(tiny_hubert_dir, tmp_path, max_bytes=LIMIT) as running:
        yield running


@pytest.fixture
async def client():
    # unsafe=True: keep cookies from an IP address (127.0.0.1), as browsers do.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def _analyse(
    client: aiohttp.ClientSession,
    site: RunningWeb,
    data: bytes,
    name: str,
    *,
    field: str = "audio",
    **fields: str,
) -> tuple[int, dict]:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field(field, data, filename=name, content_type="application/octet-stream")
    async with client.post(site.web.url + "api/analyse", data=form) as response:
        return response.status, await response.json()


async def _feedback(
    client: aiohttp.ClientSession, site: RunningWeb, **body: object
) -> tuple[int, dict]:
    async with client.post(site.web.url + "api/feedback", json=body) as response:
        return response.status, await response.json()


# Analysing


@pytest.mark.parametrize("kind", ["ogg", "webm", "mp3", "wav"])
async def test_an_uploaded_recording_gets_the_classify_json_answer_and_nothing_is_stored(
    site, client, make_audio, kind
):
    path = make_audio(f"note.{kind}", 2.0)
    status, answer = await _analyse(client, site, path.read_bytes(), path.name)
    assert status == 200
    expected = (await site.service.analyzer.analyse(path)).to_json()
    assert {k: answer[k] for k in expected} == expected
    assert answer["file"] == path.name and answer["donated"] is False and answer["note_id"] is None
    assert "%" in answer["text"]
    assert site.counts() == dict.fromkeys(site.counts(), 0)


async def test_the_answer_sentence_follows_the_requested_language(site, client, make_audio):
    data = make_audio("note.ogg", 2.0).read_bytes()
    _, english = await _analyse(client, site, data, "note.ogg", lang="en")
    _, korean = await _analyse(client, site, data, "note.ogg", lang="ko")
    assert "tone" in english["text"]
    assert "확" in korean["text"] and "tone" not in korean["text"]


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"", "empty", 422),
        (b"Dear diary, today I felt fine.\n" * 20, "undecodable", 422),
        (b"OggS" + b"\x00garbage" * 200, "undecodable", 422),
    ],
    ids=["empty", "text", "corrupt"],
)
async def test_a_bad_file_gets_a_polite_4xx_with_its_code(site, client, data, code, status):
    got, body = await _analyse(client, site, data, "note.ogg")
    assert (got, body["code"]) == (status, code)
    assert body["error"] == t("en", f"error.{code}")


async def test_errors_are_worded_in_the_accept_language(site, client):
    form = aiohttp.FormData()
    form.add_field("audio", b"", filename="note.ogg")
    headers = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
    async with client.post(site.web.url + "api/analyse", data=form, headers=headers) as response:
        body = await response.json()
    assert body["error"] == TEXT["ko"]["error.empty"]


async def test_a_form_without_the_audio_field_is_a_400(site, client, make_audio):
    data = make_audio("note.ogg", 1.0).read_bytes()
    status, body = await _analyse(client, site, data, "note.ogg", field="file")
    assert (status, body["code"]) == (400, "no_file")
    assert "audio" in body["error"]


async def test_a_body_that_is_not_a_multipart_form_is_a_400(site, client):
    async with client.post(site.web.url + "api/analyse", json={"audio": "x"}) as response:
        assert response.status == 400
        assert (await response.json())["code"] == "bad_request"


# Size limits, checked before (or while) reading


async def test_an_upload_declared_over_the_limit_is_refused_before_its_body_is_sent(site):
    head = _head(site, "multipart/form-data; boundary=B", [("Content-Length", str(50 * LIMIT))])
    status, body = await _raw_exchange(site, head, [])
    assert (status, body["code"]) == (413, "too_large")
    assert "too large" in body["error"]


async def test_expect_continue_over_the_limit_gets_413_instead_of_continue(site):
    head = _head(
        site,
        "multipart/form-data; boundary=B",
        [("Content-Length", str(50 * LIMIT)), ("Expect", "100-continue")],
    )
    status, body = await _raw_exchange(site, head, [])
    assert (status, body["code"]) == (413, "too_large")


async def test_a_streamed_upload_is_cut_off_at_the_limit_without_reading_the_rest(site):
    head = _head(site, "multipart/form-data; boundary=B", [("Transfer-Encoding", "chunked")])
    part = (
        b'--B\r\nContent-Disposition: form-data; name="audio"; filename="big.ogg"\r\n'
        b"Content-Type: audio/ogg\r\n\r\n"
    )
    # Enough to pass the limit plus the reader's look-ahead for the boundary.
    payload = [part] + [b"\x01" * 32 * 1024] * (LIMIT // (32 * 1024) + 8)
    # The body never ends (no last chunk): only a server that stops at the limit can answer.
    status, body = await _raw_exchange(site, head, [_chunk(c) for c in payload])
    assert (status, body["code"]) == (413, "too_large")


async def test_a_burst_of_60_small_notes_waits_its_turn_and_every_one_is_answered(
    site, client, make_audio
):
    data = make_audio("note.ogg", 4.0).read_bytes()
    answers = await asyncio.gather(*(_analyse(client, site, data, "note.ogg") for _ in range(60)))
    assert [status for status, _ in answers] == [200] * 60
    assert site.web.app[GATE].bytes_in_flight == 0


async def test_uploads_over_the_bytes_in_flight_bound_are_told_busy_with_retry_after(
    tiny_hubert_dir, tmp_path, client, make_audio
):
    data = make_audio("note.ogg", 1.0).read_bytes()
    async with running_web(tiny_hubert_dir, tmp_path, max_bytes_in_flight=2 * 9000) as site:
        head = _head(site, "multipart/form-data; boundary=B", [("Content-Length", "9000")])
        url = urlsplit(site.web.url)
        held = [await asyncio.open_connection(url.hostname, url.port) for _ in range(2)]
        for _, writer in held:
            writer.write(head + b"--B\r\n")  # and never the rest
        await _eventually(lambda: site.web.app[GATE].bytes_in_flight == 2 * 9000)
        form = aiohttp.FormData()
        form.add_field("audio", data, filename="note.ogg")
        async with client.post(site.web.url + "api/analyse", data=form) as response:
            assert (response.status, (await response.json())["code"]) == (503, "busy")
            assert int(response.headers["Retry-After"]) >= 1
        for _, writer in held:
            writer.close()
        await _eventually(lambda: site.web.app[GATE].in_flight == 0)
        status, _ = await _analyse(client, site, data, "note.ogg")
        assert status == 200


def test_the_gate_refuses_once_the_measured_wait_passes_its_bound_and_says_when_to_retry():
    now = [0.0]
    gate = UploadGate(max_bytes=10**9, max_wait_s=10.0, clock=lambda: now[0])
    admitted = [gate.admit(1000) for _ in range(30)]
    for admission in admitted[:10]:  # answered one a second while the others waited
        now[0] += 1.0
        gate.done(admission)
    assert gate.seconds_per_answer == pytest.approx(1.0)
    with pytest.raises(GateBusy) as refused:
        gate.admit(1000)  # 20 ahead at 1 s each: 20 s > 10 s
    assert refused.value.retry_after_s == 10 and refused.value.code == "busy"
    for admission in admitted[10:21]:
        gate.done(admission)
    assert gate.admit(1000).size == 1000  # 9 ahead: within the bound again


# Requests from other sites

CROSS_SITE = [
    {"Origin": "https://attacker.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_a_donation_posted_from_another_site_is_refused_and_nothing_is_stored(
    site, client, make_audio, headers
):
    form = aiohttp.FormData({"donate": "true"})
    form.add_field("audio", make_audio("note.ogg", 1.0).read_bytes(), filename="note.ogg")
    async with client.post(site.web.url + "api/analyse", data=form, headers=headers) as response:
        body = await response.json()
        assert (response.status, body["code"]) == (403, "cross_site")
        assert "another website" in body["error"]  # its own sentence, not the generic one
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert not client.cookie_jar.filter_cookies(URL(site.web.url))


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_votes_and_forgetting_posted_from_another_site_are_refused(
    site, client, make_audio, headers
):
    data = make_audio("note.ogg", 1.0).read_bytes()
    _, answer = await _analyse(client, site, data, "note.ogg", donate="true")
    before = site.counts()
    vote = {"label": "sad", "note_id": answer["note_id"]}
    async with client.post(site.web.url + "api/feedback", json=vote, headers=headers) as response:
        assert (response.status, (await response.json())["code"]) == (403, "cross_site")
    async with client.post(site.web.url + "api/forget", headers=headers) as response:
        assert (response.status, (await response.json())["code"]) == (403, "cross_site")
    assert site.counts() == before and before["votes"] == 0 and before["notes"] == 1
    assert len(site.audio_files()) == 1


async def test_the_page_own_origin_can_donate_vote_and_forget(site, client, make_audio):
    own = {"Origin": site.web.url.rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    form = aiohttp.FormData({"donate": "true"})
    form.add_field("audio", make_audio("note.ogg", 1.0).read_bytes(), filename="note.ogg")
    async with client.post(site.web.url + "api/analyse", data=form, headers=own) as response:
        note_id = (await response.json())["note_id"]
        assert response.status == 200 and isinstance(note_id, int)
    vote = {"label": "sad", "note_id": note_id}
    async with client.post(site.web.url + "api/feedback", json=vote, headers=own) as response:
        assert (response.status, (await response.json())["stored"]) == (200, True)
    async with client.post(site.web.url + "api/forget", headers=own) as response:
        assert response.status == 200
    assert site.counts()["notes"] == 0 and site.audio_files() == []


async def test_reading_pages_from_another_site_still_works(site, client):
    headers = {"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"}
    async with client.get(site.web.url + "healthz", headers=headers) as response:
        assert response.status == 200


# Feedback and donations


async def test_feedback_without_donating_is_thanked_and_stores_nothing(site, client, make_audio):
    data = make_audio("note.ogg", 2.0).read_bytes()
    _, answer = await _analyse(client, site, data, "note.ogg", donate="false")
    status, body = await _feedback(client, site, label="sad", note_id=answer["note_id"])
    assert (status, body["stored"]) == (200, False)
    assert body["message"] == t("en", "web.feedback_not_stored")
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert site.audio_files() == []
    assert not client.cookie_jar.filter_cookies(URL(site.web.url))


async def test_a_donated_recording_keeps_note_audio_and_vote_for_retraining(
    site, client, make_audio
):
    data = make_audio("note.webm", 2.0).read_bytes()
    _, answer = await _analyse(client, site, data, "recording.webm", donate="true")
    assert answer["donated"] is True and isinstance(answer["note_id"], int)
    status, body = await _feedback(client, site, label="sad", note_id=answer["note_id"])
    assert (status, body["stored"]) == (200, True)
    counts = site.counts()
    assert (counts["persons"], counts["notes"], counts["votes"]) == (1, 1, 1)
    store = site.service.store
    note = await store.get_note(answer["note_id"])
    cookie = client.cookie_jar.filter_cookies(URL(site.web.url))["vm_session"].value
    assert note.person.platform == "web" and cookie not in note.person.platform_user_id
    # A webm may carry a camera's pictures, so only its sound is kept, as FLAC (16 kHz mono).
    kept = store.audio_file(note).read_bytes()
    assert note.audio_path.endswith(".flac") and kept.startswith(b"fLaC")
    assert abs(decode(kept).duration_s - decode(data).duration_s) < 0.05
    clips = [clip async for clip in store.donated_clips()]
    assert [(c.note_id, c.label) for c in clips] == [(note.id, "sad")]


async def test_feedback_on_a_note_from_another_session_is_refused(site, client, make_audio):
    data = make_audio("note.ogg", 2.0).read_bytes()
    _, answer = await _analyse(client, site, data, "note.ogg", donate="on")
    async with aiohttp.ClientSession() as stranger:
        status, body = await _feedback(stranger, site, label="happy", note_id=answer["note_id"])
    assert (status, body["code"]) == (404, "gone")
    assert await site.service.store.votes(answer["note_id"]) == []


async def test_feedback_with_an_unknown_label_is_a_400(site, client):
    status, body = await _feedback(client, site, label="hangry", note_id=None)
    assert (status, body["code"]) == (400, "bad_label")


async def test_forget_deletes_everything_donated_from_the_browser(site, client, make_audio):
    data = make_audio("note.ogg", 2.0).read_bytes()
    _, answer = await _analyse(client, site, data, "note.ogg", donate="true")
    await _feedback(client, site, label="calm", note_id=answer["note_id"])
    async with client.post(site.web.url + "api/forget") as response:
        body = await response.json()
    assert "1" in body["message"]
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert site.audio_files() == []


# Health, description, page shell


async def test_healthz_reports_the_running_model_and_503_once_the_worker_stops(site, client):
    async with client.get(site.web.url + "healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "model": site.service.analyzer.worker.name}
    await site.service.analyzer.worker.close()
    async with client.get(site.web.url + "healthz") as response:
        assert response.status == 503


async def test_analysing_while_the_worker_is_shutting_down_is_503_busy_with_retry_after(
    site, client, make_audio
):
    await site.service.analyzer.worker.close()
    form = aiohttp.FormData()
    form.add_field("audio", make_audio("note.ogg", 1.0).read_bytes(), filename="note.ogg")
    async with client.post(site.web.url + "api/analyse", data=form) as response:
        assert response.status == 503
        assert int(response.headers["Retry-After"]) > 0
        assert (await response.json())["code"] == "busy"


async def test_openapi_description_is_valid_3_1_and_lists_the_api(site, client):
    async with client.get(site.web.url + "openapi.json") as response:
        spec = await response.json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert {"/api/analyse", "/api/feedback", "/healthz", "/openapi.json"} <= set(spec["paths"])


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html"),
        ("/static/app.css", "text/css"),
        ("/static/app.js", "text/javascript"),
        ("/sw.js", "text/javascript"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/static/icon-192.png", "image/png"),
        ("/static/VoiceMoodHangul.woff", "font/woff"),
        ("/static/VoiceMoodHangul-LICENSE.txt", "text/plain"),
    ],
)
async def test_page_files_come_with_the_content_types_browsers_require(
    site, client, path, content_type
):
    async with client.get(site.web.url.rstrip("/") + path) as response:
        assert response.status == 200
        assert response.content_type == content_type
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_no_request_path_reaches_the_file_system(site, client):
    for path in ("/static/..%2F__init__.py", "/static/../server.py", "/static/index.html"):
        async with client.get(site.web.url.rstrip("/") + path) as response:
            assert response.status == 404


async def test_the_manifest_names_192_and_512_pixel_icons_that_exist(site, client):
    async with client.get(site.web.url + "manifest.webmanifest") as response:
        manifest = json.loads(await response.read())
    sizes = set()
    for icon in manifest["icons"]:
        async with client.get(site.web.url.rstrip("/") + icon["src"]) as response:
            image = mpimg.imread(io.BytesIO(await response.read()), format="png")
        assert f"{image.shape[1]}x{image.shape[0]}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"


async def test_the_service_worker_caches_every_file_of_the_page_shell(site, client):
    async with client.get(site.web.url + "sw.js") as response:
        script = await response.text()
    for path in PAGE_FILES:
        assert f'"{path}"' in script


async def test_the_page_first_load_is_under_200_kb_even_uncompressed(site, client):
    total = 0
    for path in PAGE_FILES:
        async with client.get(site.web.url.rstrip("/") + path) as response:
            assert response.status == 200
            total += len(await response.read())
    assert total < 200 * 1024


async def test_every_sentence_the_page_uses_exists_in_both_languages(site, client):
    async with client.get(site.web.url + "api/messages") as response:
        catalogue = await response.json()
    page = (STATIC_DIR / "index.html").read_text() + (STATIC_DIR / "app.js").read_text()
    used = set(re.findall(r'data-t="([\w.]+)"', page)) | set(re.findall(r'tr\("([\w.]+)"', page))
    used |= set(re.findall(r'"((?:web|error|button|chart)\.[\w.]+)"', page))
    assert len(used) > 15
    for lang in LANGUAGES:
        assert used <= set(catalogue["text"][lang]), lang
    assert set(catalogue["pickable"]) <= set(catalogue["labels"]["ko"])


# Raw HTTP, to see exactly what the server reads


def _head(site: RunningWeb, content_type: str, headers: list[tuple[str, str]]) -> bytes:
    host = urlsplit(site.web.url).netloc
    lines = [
        "POST /api/analyse HTTP/1.1",
        f"Host: {host}",
        f"Content-Type: {content_type}",
        *(f"{k}: {v}" for k, v in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _raw_exchange(site: RunningWeb, head: bytes, body: list[bytes]) -> tuple[int, dict]:
    """Send a request head and (part of) a body, then read the response without finishing it."""
    url = urlsplit(site.web.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head)
        for piece in body:
            writer.write(piece)
        await writer.drain()
        async with asyncio.timeout(10):
            status = int((await reader.readline()).split()[1])
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            payload = await reader.readexactly(int(headers["content-length"]))
        return status, json.loads(payload)
    finally:
        writer.close()


async def _eventually(condition: Callable[[], bool]) -> None:
    """Wait (up to 10 s) until the server reaches a state; never a timing assertion."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")
