"""Music on the web page: POST /api/music on a real server, and the 🎵 buttons in real Chromium."""

# The browser fixture is imported from the page's own browser test module.
# ruff: noqa: F811
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bots.i18n import t
from inference.music import aim, load_catalogue
from inference.music.suggest import distance
from tests.test_web_browser import _wait, browser  # noqa: F401  (fixture)
from tests.web_factory import running_web

SONGS = {song.key: song for song in load_catalogue()}
SAD = {"valence": -0.63, "arousal": -0.45}  # a note heard as sad, 90 % sure


@pytest.fixture
async def site(tiny_hubert_dir, tmp_path):
    async with running_web(tiny_hubert_dir, tmp_path) as running:
        yield running


async def _music(site, body):
    async with (
        aiohttp.ClientSession() as client,
        client.post(site.web.url + "api/music", json=body) as response,
    ):
        return response.status, await response.json()


async def test_match_and_lift_give_three_catalogue_songs_each_and_nothing_is_stored(site):
    status, matched = await _music(site, {**SAD, "lang": "en"})
    status_lift, lifted = await _music(site, {**SAD, "mode": "lift", "lang": "ko"})

    assert (status, status_lift) == (200, 200)
    place = (SAD["valence"], SAD["arousal"])
    lift_aim = aim(*place, "lift")
    for body, near, far in ((matched, place, lift_aim), (lifted, lift_aim, place)):
        assert len(body["songs"]) == 3
        kept = [SONGS[song["key"]] for song in body["songs"]]
        assert [(s.title, s.link) for s in kept] == [(x["title"], x["link"]) for x in body["songs"]]
        assert sum(distance(s, near) for s in kept) < sum(distance(s, far) for s in kept)
    assert matched["header"].startswith("🎵 Three songs near how this note sounds (low:")
    assert lifted["header"].startswith("🎵 이 메시지의 목소리 톤(")
    assert matched["why"] == t("en", "music.why") and matched["not_sure"] is None
    assert site.counts()["persons"] == 0  # nothing of the visitor is kept


async def test_the_songs_shown_last_are_left_out_and_an_unsure_answer_says_so(site):
    _, first = await _music(site, SAD)
    keys = [song["key"] for song in first["songs"]]

    _, second = await _music(site, {**SAD, "avoid": keys, "not_sure": True})

    assert not {song["key"] for song in second["songs"]} & set(keys)
    assert second["not_sure"] == t("en", "music.not_sure")


async def test_the_page_shows_songs_with_links_under_the_answer(
    browser, tiny_hubert_dir, tmp_path, make_audio
):
    note = make_audio("note.ogg", 3.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_tap_music, browser, site.web.url, note)
    first, lifted = shown
    assert first["header"].startswith("🎵 Three songs near how this note sounds")
    assert lifted["header"].startswith("🎵 Three songs a step from how this note sounds")
    for songs in (first["links"], lifted["links"]):
        assert len(songs) == 3
        assert all(
            link.startswith("https://www.youtube.com/results?search_query=") for link in songs
        )
    assert not set(first["links"]) & set(lifted["links"])


def _tap_music(driver, url: str, note) -> list[dict[str, object]]:
    from selenium.webdriver.common.by import By

    driver.get(url)
    driver.execute_script("localStorage.clear()")
    driver.refresh()
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    driver.find_element(By.ID, "file").send_keys(str(note))
    _wait(driver, lambda d: d.find_element(By.ID, "answer").is_displayed())
    shown = []
    for button in ("music-match", "music-lift"):
        before = driver.find_element(By.ID, "music-header").text
        driver.find_element(By.ID, button).click()
        _wait(driver, lambda d, b=before: d.find_element(By.ID, "music-header").text not in ("", b))
        links = driver.find_elements(By.CSS_SELECTOR, "#music-songs a")
        shown.append(
            {
                "header": driver.find_element(By.ID, "music-header").text,
                "links": [a.get_attribute("href") for a in links],
            }
        )
    return shown
