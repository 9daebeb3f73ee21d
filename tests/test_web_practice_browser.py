"""The page's Practice tab in real Chromium (Debian's, with a fake microphone), in English and Korean.

What a person sees: the tone and sentence to say, then for each attempt the tone heard, how sure,
the cue hint and the score, and at the end the summary. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bots.i18n import EMOJI, LABEL_NAMES, TEXT
from tests.test_web_browser import ARTIFACTS, _phone_screenshot, _wait, browser
from tests.test_web_me_browser import _open
from tests.web_factory import running_web

__all__ = ["browser"]

_SHOWN = """
const text = (id) => document.getElementById(id).textContent;
return {
  number: text("practice-number"),
  target: text("practice-target"),
  tone: document.getElementById("practice-target").dataset.tone,
  sentence: text("practice-sentence"),
  badge: text("practice-badge"),
  hit: document.getElementById("practice-badge").dataset.hit,
  lines: [...document.querySelectorAll("#practice-lines p")].map((p) => p.textContent),
};
"""


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_practice_names_a_tone_hears_each_attempt_and_ends_with_a_summary(
    browser, tiny_hubert_dir, tmp_path, make_audio, lang
):
    note = make_audio("try.ogg", 2.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_practise, browser, site.web.url, note, lang)
        counts = site.counts()
    text = TEXT[lang]
    names = LABEL_NAMES[lang]
    first, second = shown["first"], shown["second"]
    tone = first["tone"]
    # The round: the tone by name and emoji, and a sentence in the page's language.
    assert names[tone] in first["target"] and first["sentence"].strip("“”") in [
        text[f"practice.sentence.{i}"] for i in range(6)
    ]
    assert first["number"] == text["web.practice.number"].format(number=2)  # after one attempt
    # Each attempt: heard tone and how sure, match or not, the score so far.
    for attempt, n in ((first, 1), (second, 2)):
        said = "\n".join(attempt["lines"])
        assert "%" in said
        assert any(names[label] in said for label in ("neutral", "happy", "sad", "angry"))
        assert attempt["badge"].endswith(
            text["web.practice.hit"] if attempt["hit"] == "true" else text["web.practice.miss"]
        )
        score = text["practice.score"].split("{")[0].strip()
        assert any(line.startswith(score) for line in attempt["lines"]), attempt["lines"]
        assert f"{n}" in next(line for line in attempt["lines"] if line.startswith(score))
    # The summary: two recordings heard, the tone's tally.
    summary = "\n".join(shown["summary"])
    assert summary.startswith(text["practice.summary"].split("{")[0].strip())
    hits = [first["hit"], second["hit"]].count("true")
    tally = text["practice.summary_line"].format(
        emoji=EMOJI[tone], tone=names[tone], hits=hits, attempts=2
    )
    assert tally in shown["summary"], shown["summary"]  # this session's line for the tone
    assert shown["idle_again"] is True
    # Never a note or a recording kept; one person (the practice score).
    assert (counts["persons"], counts["notes"]) == (1, 0)
    assert site.audio_files() == []


def _practise(driver, url: str, note: Path, lang: str) -> dict:
    from selenium.webdriver.common.by import By

    _open(driver, url, lang)
    driver.find_element(By.ID, "tab-practice").click()
    _wait(driver, lambda d: d.find_element(By.ID, "practice-start").is_displayed())
    driver.find_element(By.ID, "practice-start").click()
    _wait(driver, lambda d: d.find_element(By.ID, "practice-round").is_displayed())
    # First attempt with the (fake) microphone, as a person would.
    record = driver.find_element(By.ID, "practice-record")
    record.click()
    _wait(driver, lambda d: record.get_attribute("aria-pressed") == "true")
    time.sleep(2.0)  # let the fake microphone speak
    record.click()
    _wait(driver, lambda d: d.find_element(By.ID, "practice-result").is_displayed())
    first = driver.execute_script(_SHOWN)
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"web-practice-desktop-{lang}.png"))
    _phone_screenshot(driver, ARTIFACTS / f"web-practice-phone-{lang}.png")
    # Second attempt from a file.
    driver.execute_script("document.getElementById('practice-result').hidden = true")
    driver.find_element(By.ID, "practice-file").send_keys(str(note))
    _wait(driver, lambda d: d.find_element(By.ID, "practice-result").is_displayed())
    second = driver.execute_script(_SHOWN)
    driver.find_element(By.ID, "practice-stop").click()
    _wait(driver, lambda d: d.find_element(By.ID, "practice-summary").is_displayed())
    summary = [p.text for p in driver.find_elements(By.CSS_SELECTOR, "#practice-summary p")]
    _phone_screenshot(driver, ARTIFACTS / f"web-practice-summary-phone-{lang}.png")
    return {
        "first": first,
        "second": second,
        "summary": summary,
        "idle_again": driver.find_element(By.ID, "practice-start").is_displayed(),
    }
