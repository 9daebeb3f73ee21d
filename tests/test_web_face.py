"""The web page's face tick through the real aiohttp app: a real face photo moving across a real
H.264 video with a voice track (tests/face_factory.py), read by the real detector and expression
network only when ticked, answered against the served OpenAPI document's models; never kept."""

from __future__ import annotations

import aiohttp
import pytest

from bots.i18n import t
from bots.web.bodies import Answer
from tests import audio_factory, face_factory
from tests.web_factory import RunningWeb, running_web


@pytest.fixture
async def site(tiny_hubert_dir, tmp_path):
    async with running_web(tiny_hubert_dir, tmp_path) as running:
        yield running


@pytest.fixture
def face_mp4(ffmpeg, tmp_path) -> bytes:
    voice = audio_factory.speechlike(4.0, seed=7)
    path = tmp_path / "face.mp4"
    return face_factory.moving_photo_video(
        ffmpeg, face_factory.hopper(), path, voice=voice
    ).read_bytes()


async def _analyse(site: RunningWeb, data: bytes, name: str, **fields: str) -> tuple[int, dict]:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("audio", data, filename=name, content_type="video/webm")
    async with (
        aiohttp.ClientSession() as client,
        client.post(site.web.url + "api/analyse", data=form) as response,
    ):
        return response.status, await response.json()


async def test_a_video_with_the_face_tick_gets_its_face_and_without_it_the_voice_alone(
    site, face_mp4
):
    status, read = await _analyse(site, face_mp4, "recording.webm", face="true", lang="ko")
    _, plain = await _analyse(site, face_mp4, "recording.webm")

    assert status == 200
    Answer.model_validate(read)
    face = read["face"]
    assert face["frames"] >= 10 and face["frames_with_face"] >= face["frames"] * 0.8
    assert face["label"] in face["probabilities"]
    assert read["fused"] is not None and -1 <= read["fused"]["valence"] <= 1
    assert "얼굴" in read["face_text"]  # worded in the page's language
    assert (plain["face"], plain["fused"], plain["face_text"]) == (None, None, None)
    assert plain["label"] == read["label"]  # the voice's answer does not change
    assert site.audio_files() == []  # nothing ticked to keep: nothing kept


async def test_a_recording_without_pictures_says_its_face_was_not_read(site, make_audio):
    data = make_audio("note.ogg", 2.0).read_bytes()
    status, answer = await _analyse(site, data, "recording.webm", face="true")

    assert status == 200 and answer["face"] is None
    assert answer["face_text"] == t("en", "face.unreadable")
