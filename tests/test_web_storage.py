"""What the web page keeps, read from the real SQLite file and data folder: only through the service."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from bots.core.values import User, Where
from inference.audio import decode
from tests import audio_factory
from tests.web_factory import RunningWeb, running_web

WEB_PACKAGE = Path(__file__).resolve().parents[1] / "bots" / "web"


@pytest.fixture
async def site(tiny_hubert_dir, tmp_path):
    async with running_web(tiny_hubert_dir, tmp_path) as running:
        yield running


@pytest.fixture
async def client():
    # unsafe=True: keep cookies from an IP address (127.0.0.1), as browsers do.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def _analyse(
    client: aiohttp.ClientSession, site: RunningWeb, data: bytes, **fields: str
) -> tuple[int, dict]:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("audio", data, filename="note.ogg", content_type="audio/ogg")
    async with client.post(site.web.url + "api/analyse", data=form) as response:
        return response.status, await response.json()


def _web_person_ids(site: RunningWeb) -> list[str]:
    with sqlite3.connect(site.db_path) as db:
        rows = db.execute("SELECT platform_user_id FROM persons WHERE platform = 'web'")
        return [row[0] for row in rows]


async def test_a_web_donor_forgotten_through_the_service_leaves_no_row_and_no_audio(
    site, client, make_audio
):
    data = make_audio("note.ogg", 2.0).read_bytes()
    _, answer = await _analyse(client, site, data, donate="true")
    async with client.post(
        site.web.url + "api/feedback", json={"label": "sad", "note_id": answer["note_id"]}
    ) as response:
        assert (await response.json())["stored"] is True
    assert len(site.audio_files()) == 1
    # The donor is an ordinary service person: the chat bots' forget-me button reaches them.
    (donor_id,) = _web_person_ids(site)
    donor, own_chat = User("web", donor_id, ""), Where("web", donor_id, is_group=False)
    ask = await site.service.on_command(donor, own_chat, "forget", [])
    done = await site.service.on_button(donor, own_chat, ask.buttons[0][0].data)
    assert "1 note," in done.notice and "1 audio file." in done.notice
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert site.audio_files() == []
    # Deleted rows are overwritten and the WAL emptied: the id is nowhere in the file any more.
    stored = b"".join(p.read_bytes() for p in site.db_path.parent.glob(site.db_path.name + "*"))
    assert donor_id.encode() not in stored


async def test_an_upload_without_the_donate_tick_keeps_nothing_even_from_a_donor(
    site, client, make_audio
):
    data = make_audio("note.ogg", 2.0).read_bytes()
    _, donated = await _analyse(client, site, data, donate="true")
    kept = site.audio_files()
    assert client.cookie_jar.filter_cookies(URL(site.web.url))["vm_session"].value
    status, answer = await _analyse(client, site, data)
    assert status == 200 and answer["donated"] is False and answer["note_id"] is None
    assert site.counts()["notes"] == 1 and site.audio_files() == kept


async def test_an_anonymous_upload_leaves_no_row_and_no_audio(site, client, make_audio):
    status, answer = await _analyse(client, site, make_audio("note.ogg", 2.0).read_bytes())
    assert status == 200 and answer["note_id"] is None
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert site.audio_files() == []


async def test_a_donated_upload_that_cannot_be_analysed_leaves_no_trace(site, client):
    status, body = await _analyse(client, site, b"OggS" + b"\x00garbage" * 200, donate="on")
    assert (status, body["code"]) == (422, "undecodable")
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert site.audio_files() == []
    assert not client.cookie_jar.filter_cookies(URL(site.web.url))


def test_the_web_package_reaches_storage_only_through_the_service():
    """Consent, donation and forget-me rules live in VoiceMoodService; the web must not skip it."""
    for module in sorted(WEB_PACKAGE.glob("*.py")):
        tree = ast.parse(module.read_text(), str(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("storage"), module.name
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("storage") for a in node.names), module.name
            if isinstance(node, ast.Attribute):
                assert node.attr != "store", f"{module.name}:{node.lineno} uses the store"


async def test_a_donated_video_upload_keeps_its_sound_only(site, client, ffmpeg, tmp_path):
    video = audio_factory.video_note(ffmpeg, audio_factory.speechlike(3.0), tmp_path / "clip.mp4")
    data = video.read_bytes()
    form = aiohttp.FormData()
    form.add_field("donate", "true")
    form.add_field("audio", data, filename="clip.mp4", content_type="video/mp4")
    async with client.post(site.web.url + "api/analyse", data=form) as response:
        assert response.status == 200
        answer = await response.json()

    assert answer["donated"] is True
    (kept,) = site.audio_files()
    sound = kept.read_bytes()
    assert kept.suffix == ".flac" and sound.startswith(b"fLaC") and b"ftyp" not in sound
    assert abs(decode(sound).duration_s - 3.0) < 0.1
