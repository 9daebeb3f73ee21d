"""The page's "remember my answers" opt-in and its Me area (history, export, words, forget), over HTTP.

A real aiohttp server, a tiny HuBERT and a SQLite file; what is stored is read from the file.
"""

from __future__ import annotations

import base64
import csv
import io
import json

import aiohttp
import pytest
from openapi_spec_validator import validate
from yarl import URL

from bots.i18n import LABEL_NAMES, LANGUAGES, t
from inference.cues import CUE_NAMES
from tests.web_factory import RunningWeb, running_web


@pytest.fixture
async def site(tiny_hubert_dir, tmp_path):
    async with running_web(tiny_hubert_dir, tmp_path) as running:
        yield running


@pytest.fixture
async def client():
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def _analyse(client, site: RunningWeb, data: bytes, **fields: str) -> dict:
    form = aiohttp.FormData(fields)
    form.add_field("audio", data, filename="note.ogg", content_type="audio/ogg")
    async with client.post(site.web.url + "api/analyse", data=form) as response:
        assert response.status == 200
        return await response.json()


async def _get(client, site: RunningWeb, path: str) -> tuple[int, dict]:
    async with client.get(site.web.url + path) as response:
        return response.status, await response.json()


async def _words(client, site: RunningWeb, **body: object) -> tuple[int, dict]:
    async with client.post(site.web.url + "api/me/words", json=body) as response:
        return response.status, await response.json()


def _cookie(client, site: RunningWeb) -> str | None:
    found = client.cookie_jar.filter_cookies(URL(site.web.url)).get("vm_session")
    return found.value if found else None


async def test_a_remembered_answer_is_kept_without_its_audio_under_a_cookie(
    site, client, make_audio
):
    answer = await _analyse(client, site, make_audio("n.ogg", 2.0).read_bytes(), remember="true")
    assert answer["remembered"] is True and answer["donated"] is False
    assert isinstance(answer["note_id"], int) and _cookie(client, site)
    counts = site.counts()
    assert (counts["persons"], counts["notes"], counts["consents"]) == (1, 1, 0)
    assert site.audio_files() == []
    note = await site.service.store.get_note(answer["note_id"])
    assert note.audio_path is None and note.person.platform == "web"
    assert note.answer_text == answer["text"]  # the answer as shown is what is kept


async def test_the_answer_carries_its_cue_reading_and_the_bots_cue_line_in_both_languages(
    site, client, make_audio
):
    answer = await _analyse(client, site, make_audio("n.ogg", 3.0).read_bytes(), lang="ko")
    reading = answer["cue_reading"]
    assert reading["against"] == "typical"
    assert set(reading["departures"]) == set(CUE_NAMES)
    for name in CUE_NAMES:
        word, off = answer["cues"][name]["word"], reading["departures"][name]
        if word is None:
            assert off is None
        else:  # the marker's side agrees with the word
            assert (word == "higher") == (off > 1) and (word == "lower") == (off < -1), name
    assert reading["line"]["en"].startswith("Voice:") and reading["line"]["ko"].startswith("목소리")
    assert reading["line"]["ko"] in answer["text"]  # the same line the bots' sentence ends with
    assert site.counts()["notes"] == 0


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_without_the_opt_in_the_me_area_says_so_politely_and_stores_nothing(
    site, client, lang
):
    status, me = await _get(client, site, f"api/me?lang={lang}")
    assert (status, me["remembered"], me["words"]) == (200, False, {})
    assert me["message"] == t(lang, "web.me.off")
    for path in ("api/me/history", "api/me/export.csv", "api/me/export.json"):
        status, body = await _get(client, site, f"{path}?lang={lang}")
        assert (status, body["code"]) == (404, "not_remembered"), path
        assert body["error"] == t(lang, "error.not_remembered")
    status, body = await _words(client, site, label="angry", word="tense", lang=lang)
    assert (status, body["code"]) == (404, "not_remembered")
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert _cookie(client, site) is None


async def test_unticking_remember_stops_keeping_new_answers(site, client, make_audio):
    data = make_audio("n.ogg", 2.0).read_bytes()
    await _analyse(client, site, data, remember="true")
    later = await _analyse(client, site, data, remember="false")
    assert later["remembered"] is False and later["note_id"] is None
    assert site.counts()["notes"] == 1


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_history_of_remembered_answers_is_the_history_command_caption_and_chart(
    site, client, make_audio, lang
):
    data = make_audio("n.ogg", 2.0).read_bytes()
    for _ in range(2):
        await _analyse(client, site, data, remember="true")
    status, week = await _get(client, site, f"api/me/history?period=week&lang={lang}")
    assert status == 200
    period = t(lang, "history.period.week")
    assert period in week["text"] and "2" in week["text"]
    png = base64.b64decode(week["chart"].removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG")
    status, month = await _get(client, site, f"api/me/history?period=month&lang={lang}")
    assert status == 200 and t(lang, "history.period.month") in month["text"]
    status, bad = await _get(client, site, f"api/me/history?period=year&lang={lang}")
    assert (status, bad["code"]) == (400, "bad_request")


async def test_export_downloads_everything_kept_as_csv_and_json(site, client, make_audio):
    answer = await _analyse(
        client, site, make_audio("n.ogg", 2.0).read_bytes(), remember="true", lang="ko"
    )
    await _words(client, site, label="happy", word="bright")
    async with client.get(site.web.url + "api/me/export.json") as response:
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        document = json.loads(await response.read())
    assert [n["id"] for n in document["notes"]] == [answer["note_id"]]
    assert document["notes"][0]["audio_kept"] is False
    assert document["notes"][0]["answer"] == answer["text"]
    assert document["words"] == {"happy": "bright"}
    assert document["person"]["platform"] == "web"
    async with client.get(site.web.url + "api/me/export.csv") as response:
        assert response.status == 200 and response.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert [r["part"] for r in rows].count("note") == 1
    assert {"part": "word", "value": "bright"}.items() <= next(
        r for r in rows if r["part"] == "word"
    ).items()


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_words_chosen_on_the_page_name_the_tone_in_later_answers(
    site, client, make_audio, lang
):
    data = make_audio("n.ogg", 2.0).read_bytes()
    first = await _analyse(client, site, data, remember="true", lang=lang)
    heard = first["label"]
    # The tone named in the page's language, as a person would type it.
    status, body = await _words(
        client, site, label=LABEL_NAMES[lang][heard], word="my word", lang=lang
    )
    assert status == 200 and body["words"] == {heard: "my word"}
    assert "my word" in body["message"]
    again = await _analyse(client, site, data, remember="true", lang=lang)
    assert again["words"] == {heard: "my word"}
    if not again["not_sure"]:
        assert "my word" in again["text"]
    status, me = await _get(client, site, f"api/me?lang={lang}")
    assert me["remembered"] is True and me["words"] == {heard: "my word"}
    status, reset = await _words(client, site, reset=True, lang=lang)
    assert status == 200 and reset["words"] == {}


async def test_choosing_a_word_with_the_box_ticked_remembers_the_browser(site, client):
    status, body = await _words(client, site, label="angry", word="tense", remember=True)
    assert status == 200 and body["words"] == {"angry": "tense"}
    assert _cookie(client, site) is not None
    status, me = await _get(client, site, "api/me")
    assert me["remembered"] is True


async def test_a_bad_tone_or_word_is_a_polite_answer_and_stores_no_word(site, client, make_audio):
    await _analyse(client, site, make_audio("n.ogg", 1.0).read_bytes(), remember="true")
    status, body = await _words(client, site, label="hangry", word="x")
    assert (status, body["code"]) == (400, "bad_label")
    status, body = await _words(client, site, label="sad", word="x" * 40)
    assert status == 200 and body["message"] == t("en", "words.bad_word", limit=32)
    assert body["words"] == {}


async def test_forget_removes_remembered_answers_words_and_the_cookie(site, client, make_audio):
    data = make_audio("n.ogg", 2.0).read_bytes()
    await _analyse(client, site, data, remember="true")
    await _analyse(client, site, data, donate="true")
    await _words(client, site, label="calm", word="steady")
    async with client.post(site.web.url + "api/forget") as response:
        assert response.status == 200
    assert site.counts() == dict.fromkeys(site.counts(), 0)
    assert site.audio_files() == []
    assert _cookie(client, site) is None
    status, me = await _get(client, site, "api/me")
    assert me["remembered"] is False


async def test_choosing_words_from_another_site_is_refused(site, client):
    headers = {"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"}
    body = {"label": "angry", "word": "tense", "remember": True}
    async with client.post(site.web.url + "api/me/words", json=body, headers=headers) as response:
        assert (response.status, (await response.json())["code"]) == (403, "cross_site")
    assert site.counts() == dict.fromkeys(site.counts(), 0)


async def test_openapi_describes_the_me_endpoints(site, client):
    status, spec = await _get(client, site, "openapi.json")
    validate(spec)
    assert {"/api/me", "/api/me/history", "/api/me/export.{kind}", "/api/me/words"} <= set(
        spec["paths"]
    )
    assert "cue_reading" in spec["components"]["schemas"]["Answer"]["required"]
