"""The page's cue chart and its Me area (remember, history, export, words, forget) in real Chromium.

Same headless Chromium as tests/test_web_browser.py (Debian's, through its chromedriver), in
English and in Korean; each test asserts what a person sees. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from pathlib import Path

import pytest

from bots.i18n import TEXT
from inference.cues import CUE_NAMES
from tests.test_web_browser import ARTIFACTS, PHONE, _phone_screenshot, _wait, browser
from tests.web_factory import running_web

__all__ = ["browser"]  # the module's Chromium fixture, shared


def _open(driver, url: str, lang: str) -> None:
    """The page, fresh: no cookie, nothing ticked, in `lang`."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    driver.delete_all_cookies()
    driver.execute_script(
        "localStorage.clear(); localStorage.setItem('voicemood.lang', arguments[0])", lang
    )
    driver.refresh()
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))


def _pick(driver, note: Path) -> None:
    from selenium.webdriver.common.by import By

    # Hidden first, so the wait below sees this recording's answer, not the one before.
    driver.execute_script("document.getElementById('answer').hidden = true")
    driver.find_element(By.ID, "file").send_keys(str(note))
    _wait(driver, lambda d: d.find_element(By.ID, "answer").is_displayed())


_CUE_ROWS = """
const rows = [...document.querySelectorAll("#cue-rows li")];
const width = document.documentElement.clientWidth;
return {
  line: document.getElementById("cue-line").textContent,
  explain: document.getElementById("cue-explain").textContent,
  rows: rows.map((li) => ({
    cue: li.dataset.cue,
    word: li.dataset.word,
    name: li.querySelector(".cue-name").textContent,
    said: li.querySelector(".cue-word").textContent,
    dot: li.querySelectorAll(".cue-track .dot").length,
    dot_inside: [...li.querySelectorAll(".cue-track .dot")].every((dot) => {
      const [d, t] = [dot.getBoundingClientRect(), li.querySelector(".cue-track").getBoundingClientRect()];
      return d.left >= t.left - 0.5 && d.right <= t.right + 0.5;
    }),
    fits: li.getBoundingClientRect().right <= width + 0.5,
  })),
};
"""


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_every_answer_shows_its_voice_cues_as_labelled_rows(
    browser, tiny_hubert_dir, tmp_path, make_audio, lang
):
    note = make_audio("note.ogg", 3.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_cues_on_a_phone, browser, site.web.url, note, lang)
    text = TEXT[lang]
    assert [row["cue"] for row in shown["rows"]] == list(CUE_NAMES)
    assert [row["name"] for row in shown["rows"]] == [text[f"web.cue.{n}"] for n in CUE_NAMES]
    for row in shown["rows"]:
        if row["word"] in ("higher", "lower"):
            assert row["said"] == text[f"cue.{row['cue']}.{row['word']}"]
            assert row["dot"] == 1
        elif row["word"] == "typical":
            assert row["said"] == text["web.cue_typical"] and row["dot"] == 1
        else:
            assert row["said"] == text["web.cue_none"]
        assert row["fits"] and row["dot_inside"], row  # readable at 390 px, nothing cut off
    assert any(row["word"] for row in shown["rows"])
    assert shown["line"].startswith(text["cues.typical"].split("{")[0].strip())
    assert shown["explain"] == text["web.cues_explain.typical"]


def _cues_on_a_phone(driver, url: str, note: Path, lang: str) -> dict:
    _open(driver, url, lang)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        _pick(driver, note)
        driver.execute_script("document.getElementById('cues').scrollIntoView()")
        shown = driver.execute_script(_CUE_ROWS)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    ARTIFACTS.mkdir(exist_ok=True)
    _phone_screenshot(driver, ARTIFACTS / f"web-cues-phone-{lang}.png")
    driver.execute_script("document.getElementById('cues').scrollIntoView()")
    driver.save_screenshot(str(ARTIFACTS / f"web-cues-desktop-{lang}.png"))
    return shown


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_the_me_area_says_nothing_is_remembered_until_the_box_is_ticked(
    browser, tiny_hubert_dir, tmp_path, make_audio, lang
):
    note = make_audio("note.ogg", 2.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_unticked, browser, site.web.url, note, lang)
        counts = site.counts()
    assert shown["status"] == TEXT[lang]["web.me.off"]
    assert shown["area_hidden"] is True
    assert counts == dict.fromkeys(counts, 0)


def _unticked(driver, url: str, note: Path, lang: str) -> dict:
    from selenium.webdriver.common.by import By

    _open(driver, url, lang)
    _pick(driver, note)
    driver.find_element(By.ID, "tab-me").click()
    _wait(driver, lambda d: d.find_element(By.ID, "me-status").text)
    return {
        "status": driver.find_element(By.ID, "me-status").text,
        "area_hidden": not driver.find_element(By.ID, "me-area").is_displayed(),
    }


def _remembered(driver, url: str, note: Path, lang: str, notes: int = 1) -> None:
    """A fresh page in `lang`, "remember" ticked, `notes` recordings answered, the Me area shown."""
    from selenium.webdriver.common.by import By

    _open(driver, url, lang)
    driver.find_element(By.ID, "remember").click()
    for _ in range(notes):
        _pick(driver, note)
    driver.find_element(By.ID, "tab-me").click()
    _wait(driver, lambda d: d.find_element(By.ID, "me-area").is_displayed())
    _wait(driver, lambda d: str(notes) in d.find_element(By.ID, "history-text").text)


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_a_remembered_visitor_sees_their_history_chart_for_a_week_or_a_month(
    browser, tiny_hubert_dir, tmp_path, make_audio, lang
):
    note = make_audio("note.ogg", 2.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_history, browser, site.web.url, note, lang)
    text = TEXT[lang]
    assert shown["status"] == text["web.me.on"]
    assert text["history.period.week"] in shown["week"] and "2" in shown["week"]
    assert shown["chart_width"] > 300 and shown["alt"].endswith(shown["week"])
    assert text["history.period.month"] in shown["month"]
    assert shown["pressed"] == ["false", "true"]  # the month button says it is the one shown


def _history(driver, url: str, note: Path, lang: str) -> dict:
    from selenium.webdriver.common.by import By

    _remembered(driver, url, note, lang, notes=2)
    chart = driver.find_element(By.ID, "history-chart")
    _wait(driver, lambda d: d.execute_script("return arguments[0].naturalWidth", chart))
    shown = {
        "status": driver.find_element(By.ID, "me-status").text,
        "week": driver.find_element(By.ID, "history-text").text,
        "chart_width": chart.size["width"],
        "alt": chart.get_attribute("alt"),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("document.getElementById('me').scrollIntoView()")
    driver.save_screenshot(str(ARTIFACTS / f"web-me-desktop-{lang}.png"))
    _phone_screenshot(driver, ARTIFACTS / f"web-me-phone-{lang}.png")
    driver.find_element(By.ID, "me-month").click()
    _wait(driver, lambda d: d.find_element(By.ID, "history-text").text != shown["week"])
    shown["month"] = driver.find_element(By.ID, "history-text").text
    shown["pressed"] = [
        driver.find_element(By.ID, f"me-{p}").get_attribute("aria-pressed")
        for p in ("week", "month")
    ]
    return shown


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_a_remembered_visitor_downloads_their_export_as_csv_and_json(
    browser, tiny_hubert_dir, tmp_path, make_audio, lang
):
    note = make_audio("note.ogg", 2.0)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_export, browser, site.web.url, note, lang, downloads)
    assert shown["links"] == [TEXT[lang]["web.me.export_csv"], TEXT[lang]["web.me.export_json"]]
    document = json.loads(shown["json"])
    assert len(document["notes"]) == 1 and document["notes"][0]["audio_kept"] is False
    assert document["notes"][0]["answer"]  # the sentence the page showed, in its language
    assert document["person"]["platform"] == "web"
    rows = list(csv.DictReader(io.StringIO(shown["csv"])))
    assert [r["part"] for r in rows].count("note") == 1


def _export(driver, url: str, note: Path, lang: str, downloads: Path) -> dict:
    from selenium.webdriver.common.by import By

    _remembered(driver, url, note, lang)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    shown: dict = {
        "links": [driver.find_element(By.ID, f"export-{k}").text for k in ("csv", "json")]
    }
    for kind in ("csv", "json"):
        driver.find_element(By.ID, f"export-{kind}").click()
        _wait(driver, lambda d, kind=kind: (downloads / f"voicemood-export.{kind}").is_file())
    time.sleep(0.3)  # a download is renamed into place once complete; let the rename settle
    shown["csv"] = (downloads / "voicemood-export.csv").read_text(encoding="utf-8-sig")
    shown["json"] = (downloads / "voicemood-export.json").read_text(encoding="utf-8")
    return shown


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_words_chosen_in_the_me_area_name_the_tone_on_the_page(
    browser, tiny_hubert_dir, tmp_path, make_audio, lang
):
    note = make_audio("note.ogg", 2.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_words, browser, site.web.url, note, lang)
    text = TEXT[lang]
    assert "my word" in shown["list"] and "my word" in shown["message"]
    assert any("my word" in row for row in shown["top_rows"])  # the answer already on the page
    assert any("my word" in row for row in shown["history"])  # and the history caption
    assert shown["after_reset"] == text["web.me.words_none"]
    assert not any("my word" in row for row in shown["top_rows_after_reset"])


def _words(driver, url: str, note: Path, lang: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _remembered(driver, url, note, lang)
    heard = driver.execute_script("return document.querySelector('#top li .fill').dataset.label")
    Select(driver.find_element(By.ID, "word-tone")).select_by_value(heard)
    driver.find_element(By.ID, "word").send_keys("my word")
    driver.find_element(By.ID, "word-save").click()
    _wait(driver, lambda d: "my word" in d.find_element(By.ID, "words-list").text)
    _wait(driver, lambda d: "my word" in d.find_element(By.ID, "history-text").text)
    # The Listen tab's answer, behind the Me tab now: read as the page holds it.
    rows = lambda: driver.execute_script(  # noqa: E731
        "return [...document.querySelectorAll('#top li')].map((li) => li.textContent)"
    )
    shown: dict = {
        "list": driver.find_element(By.ID, "words-list").text,
        "message": driver.find_element(By.ID, "words-msg").text,
        "top_rows": rows(),
        "history": [driver.find_element(By.ID, "history-text").text],
    }
    driver.find_element(By.ID, "words-reset").click()
    none = TEXT[lang]["web.me.words_none"]
    _wait(driver, lambda d: d.find_element(By.ID, "words-list").text == none)
    shown["after_reset"] = driver.find_element(By.ID, "words-list").text
    shown["top_rows_after_reset"] = rows()
    return shown


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_forgetting_on_the_page_deletes_everything_and_unticks_remember(
    browser, tiny_hubert_dir, tmp_path, make_audio, lang
):
    note = make_audio("note.ogg", 2.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_forget, browser, site.web.url, note, lang)
        counts = site.counts()
    text = TEXT[lang]
    assert shown["kept"] >= 1
    assert shown["status"] == text["web.me.off"] and shown["area_hidden"]
    assert shown["ticked"] is False and shown["stored_choice"] is None
    assert shown["said"].startswith(text["forget.done"].split("{")[0])
    assert counts == dict.fromkeys(counts, 0)


def _forget(driver, url: str, note: Path, lang: str) -> dict:
    from selenium.webdriver.common.by import By

    _remembered(driver, url, note, lang)
    kept = len(driver.find_elements(By.CSS_SELECTOR, "#me-area:not([hidden])"))
    driver.find_element(By.ID, "forget").click()
    off = TEXT[lang]["web.me.off"]
    _wait(driver, lambda d: d.find_element(By.ID, "me-status").text == off)
    return {
        "kept": kept,
        "status": driver.find_element(By.ID, "me-status").text,
        "area_hidden": not driver.find_element(By.ID, "me-area").is_displayed(),
        "ticked": driver.find_element(By.ID, "remember").is_selected(),
        "stored_choice": driver.execute_script("return localStorage.getItem('voicemood.remember')"),
        "said": driver.find_element(By.ID, "forget-msg").text,
    }
