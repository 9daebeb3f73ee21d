"""The page's Practice tab over HTTP: start, attempts heard and never kept, stop, forget.

A real aiohttp server, a tiny HuBERT (neutral, happy, angry, sad) and a SQLite file.
"""

from __future__ import annotations

import sqlite3

import aiohttp
import pytest
from openapi_spec_validator import validate
from yarl import URL

from bots.i18n import LABEL_NAMES, LANGUAGES, TEXT, t
from tests.web_factory import RunningWeb, running_web

PRACTICE_TABLES = ("practice_sessions", "practice_session_tones", "practice_scores")


@pytest.fixture
async def site(tiny_hubert_dir, tmp_path):
    async with running_web(tiny_hubert_dir, tmp_path) as running:
        yield running


@pytest.fixture
async def client():
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def _post(client, site: RunningWeb, path: str, **body: object) -> tuple[int, dict]:
    async with client.post(site.web.url + path, json=body) as response:
        return response.status, await response.json()


async def _attempt(client, site: RunningWeb, data: bytes, lang: str = "en") -> tuple[int, dict]:
    form = aiohttp.FormData({"lang": lang})
    form.add_field("audio", data, filename="try.webm", content_type="audio/webm")
    async with client.post(site.web.url + "api/practice/attempt", data=form) as response:
        return response.status, await response.json()


def _practice_rows(site: RunningWeb) -> dict[str, int]:
    with sqlite3.connect(site.db_path) as db:
        return {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in PRACTICE_TABLES
        }


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_an_attempt_without_a_started_round_is_a_polite_409_and_stores_nothing(
    site, client, make_audio, lang
):
    async with client.get(site.web.url + "api/practice") as response:
        state = await response.json()
    assert state["round"] is None and set(state["tones"]) == {"neutral", "happy", "sad", "angry"}
    status, body = await _attempt(client, site, make_audio("t.ogg", 1.0).read_bytes(), lang)
    assert (status, body["code"]) == (409, "no_practice")
    assert body["error"] == t(lang, "error.no_practice")
    status, body = await _post(client, site, "api/practice/stop", lang=lang)
    assert status == 200 and body == {"summary": None, "message": t(lang, "web.practice.none")}
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert not client.cookie_jar.filter_cookies(URL(site.web.url))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_practice_session_names_a_tone_hears_attempts_scores_them_and_sums_up(
    site, client, make_audio, lang
):
    status, started = await _post(client, site, "api/practice/start", lang=lang)
    assert status == 200
    round_ = started["round"]
    assert round_["tone"] in {"neutral", "happy", "sad", "angry"} and round_["number"] == 1
    assert round_["sentence"][lang] in round_["text"][lang]
    assert client.cookie_jar.filter_cookies(URL(site.web.url))["vm_session"].value
    data = make_audio("t.ogg", 2.0).read_bytes()
    for n in (1, 2):
        status, heard = await _attempt(client, site, data, lang)
        assert status == 200
        assert heard["target"] == round_["tone"] and heard["hit"] == (
            heard["heard"] == heard["target"]
        )
        assert heard["score"] == {
            "tone": round_["tone"],
            "attempts": n,
            "hits": heard["score"]["hits"],
        }
        text = heard["text"][lang]
        if not heard["not_sure"]:
            assert LABEL_NAMES[lang][heard["heard"]] in text
            assert f"{round(100 * heard['confidence'])}%" in text
        assert f"{heard['score']['hits']}" in text and f"{n}" in text
        if heard["hint"] is not None:
            hint = heard["hint"]
            key = f"practice.hint.{hint['cue']}.{hint['direction']}"
            assert TEXT[lang][key].format(tone=LABEL_NAMES[lang][round_["tone"]]) in text
    # Attempts are heard, never kept: no note, no audio.
    counts = site.counts()
    assert (counts["persons"], counts["notes"], counts["votes"]) == (1, 0, 0)
    assert site.audio_files() == []
    status, stopped = await _post(client, site, "api/practice/stop", lang=lang)
    summary = stopped["summary"]
    assert status == 200 and summary["rounds"] == 2
    assert [x["attempts"] for x in summary["session"]] == [2]
    assert summary["text"][lang].startswith(TEXT[lang]["practice.summary"].split("{")[0])
    status, body = await _attempt(client, site, data, lang)
    assert (status, body["code"]) == (409, "no_practice")


async def test_a_chosen_tone_is_practised_and_an_unknown_one_is_refused(site, client):
    status, started = await _post(client, site, "api/practice/start", tone="sad")
    assert (status, started["round"]["tone"]) == (200, "sad")
    status, body = await _post(client, site, "api/practice/start", tone="bored")
    assert (status, body["code"]) == (400, "bad_practice_tone")
    assert body["error"] == t("en", "error.bad_practice_tone")


async def test_forget_deletes_the_practice_score_and_export_shows_it_before(
    site, client, make_audio
):
    await _post(client, site, "api/practice/start", tone="happy")
    await _attempt(client, site, make_audio("t.ogg", 2.0).read_bytes())
    async with client.get(site.web.url + "api/me/export.json") as response:
        document = await response.json(content_type=None)
    assert [s["tone"] for s in document["practice"]["scores"]] == ["happy"]
    assert _practice_rows(site)["practice_scores"] == 1
    async with client.post(site.web.url + "api/forget") as response:
        assert response.status == 200
    assert _practice_rows(site) == dict.fromkeys(PRACTICE_TABLES, 0)
    assert site.counts() == dict.fromkeys(site.counts(), 0)


async def test_practice_from_another_site_is_refused(site, client):
    headers = {"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"}
    async with client.post(
        site.web.url + "api/practice/start", json={}, headers=headers
    ) as response:
        assert (response.status, (await response.json())["code"]) == (403, "cross_site")
    assert site.counts() == dict.fromkeys(site.counts(), 0)


async def test_openapi_describes_the_practice_endpoints(site, client):
    async with client.get(site.web.url + "openapi.json") as response:
        spec = await response.json()
    validate(spec)
    assert {
        "/api/practice",
        "/api/practice/start",
        "/api/practice/attempt",
        "/api/practice/stop",
    } <= set(spec["paths"])


async def test_an_attempt_at_an_expired_round_is_a_polite_409(site, client, make_audio):
    from datetime import timedelta

    await _post(client, site, "api/practice/start", tone="sad")
    site.service.practice.expire_after = timedelta(0)  # every open round is now too old
    status, body = await _attempt(client, site, make_audio("t.ogg", 1.0).read_bytes(), "ko")
    assert (status, body["code"]) == (409, "no_practice")
    assert body["error"] == t("ko", "error.no_practice")
    async with client.get(site.web.url + "api/practice") as response:
        assert (await response.json())["round"] is None
