"""The web page in a real headless Chromium (Debian's, driven by its chromedriver through selenium).

Chromium is never downloaded: .ci/run installs Debian's `chromium` and `chromium-driver`. Without
them this test fails and says how to install them, rather than quietly skipping the page.
Screenshots of the answered page (desktop and phone-sized) are left in test-artifacts/.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.i18n import TEXT
from bots.palette import TONE_COLOURS
from tests import audio_factory
from tests.web_factory import running_web

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = (
    "the web page's browser test needs Debian's Chromium and its driver: "
    "apt-get install -y --no-install-recommends chromium chromium-driver "
    "(and selenium from `pip install -e '.[dev]'`)"
)
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
WAIT_S = 20


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[object]:
    """One headless Chromium for the module, with a fake microphone playing a speech-like file."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(INSTALL_HINT)
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.fail(INSTALL_HINT)
    folder = tmp_path_factory.mktemp("chromium")
    microphone = audio_factory.write_wav(folder / "mic.wav", audio_factory.speechlike(6.0, seed=3))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-dev-shm-usage",
        f"--user-data-dir={folder / 'profile'}",
        "--window-size=1280,1000",
        "--lang=en-US",
        # A fake microphone, allowed without a prompt, that plays our file.
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(folder / "profile", ignore_errors=True)


async def test_a_file_picked_on_the_page_gets_its_answer_rendered(
    browser, tiny_hubert_dir, tmp_path, make_audio
):
    note = make_audio("note.ogg", 9.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_pick_file_and_read_answer, browser, site.web.url, note)
        korean = await asyncio.to_thread(_switch_language, browser)
    assert "%" in shown["sentence"]
    assert any(word in shown["sentence"] for word in ("tone", "sure"))
    assert shown["map_dot"] == 1 and shown["top_rows"] >= 2
    assert shown["feedback"] == TEXT["en"]["web.feedback_not_stored"]
    assert "확" in korean or "톤" in korean


async def test_recording_with_the_microphone_gets_an_answer(browser, tiny_hubert_dir, tmp_path):
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        sentence = await asyncio.to_thread(_record_and_read_answer, browser, site.web.url)
        stored = site.counts()["notes"]
    assert "%" in sentence
    assert stored == 0


async def test_korean_and_the_tone_emoji_render_as_glyphs_not_empty_boxes(
    browser, tiny_hubert_dir, tmp_path
):
    # This machine's Chromium has no Korean or emoji font (Debian's chromium pulls in neither):
    # whatever renders them is the page's own @font-face.
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        drawn = await asyncio.to_thread(_draw_glyphs, browser, site.web.url, GLYPHS)
    for glyph in GLYPHS:
        ink, colour, same_as_box = drawn[glyph]
        assert ink > 20, f"{glyph!r} drew nothing"
        assert not same_as_box, f"{glyph!r} drew the missing-glyph box"
    for emoji in "🎙🤔🤢🥱👍🎯💡🔁":  # not 🏁: a chequered flag is black and white
        assert drawn[emoji][1] > 20, f"{emoji!r} is not drawn in colour"


# The last four come in the Practice tab's sentences (from the API, not the page's catalogue).
GLYPHS = ("한", "톤", "🎙", "🤔", "🤢", "🥱", "👍", "🎯", "🏁", "💡", "🔁")
# Draws each glyph, and an unassigned code point (always the missing-glyph box), in the page's
# own font stack onto a canvas, after the page's fonts for them have loaded.
_DRAW = """
const [glyphs, done] = [arguments[0], arguments[arguments.length - 1]];
const font = "32px " + getComputedStyle(document.body).fontFamily;
const draw = (text) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 48;
  const g = canvas.getContext("2d");
  g.font = font;
  g.textBaseline = "top";
  g.fillStyle = "#000";
  g.fillText(text, 4, 4);
  return g.getImageData(0, 0, 48, 48).data;
};
Promise.all(glyphs.map((c) => document.fonts.load(font, c))).then(() => {
  const box = draw("\u0378");
  const result = {};
  for (const c of glyphs) {
    const px = draw(c);
    let ink = 0, colour = 0, same = true;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] > 0) ink++;
      if (px[i + 3] > 0 && (Math.abs(px[i] - px[i + 1]) > 40 || Math.abs(px[i + 1] - px[i + 2]) > 40)) colour++;
      if (px[i + 3] !== box[i + 3]) same = false;
    }
    result[c] = [ink, colour, same];
  }
  done(result);
});
"""


def _draw_glyphs(driver, url: str, glyphs: tuple[str, ...]) -> dict[str, list]:
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    driver.set_script_timeout(WAIT_S)
    return driver.execute_async_script(_DRAW, list(glyphs))


# A 12 s note whose first stretch is short: 1 s happy, 8 s sad (not sure), 3 s angry.
LONG_TIMELINE = [
    {"start_s": 0.0, "end_s": 1.0, "label": "happy", "confidence": 0.7, "not_sure": False},
    {"start_s": 1.0, "end_s": 9.0, "label": "sad", "confidence": 0.4, "not_sure": True},
    {"start_s": 9.0, "end_s": 12.0, "label": "angry", "confidence": 0.8, "not_sure": False},
]


async def test_the_timeline_keeps_time_proportions_on_a_phone_and_lists_its_stretches(
    browser, tiny_hubert_dir, tmp_path, make_audio
):
    note = make_audio("note.ogg", 3.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_timeline_on_a_phone, browser, site.web.url, note)
    strip_left, strip_right = shown["strip"]
    widths = [right - left for left, right in shown["parts"]]
    for width, seg in zip(widths, LONG_TIMELINE, strict=True):
        expected = (seg["end_s"] - seg["start_s"]) / 12.0 * (strip_right - strip_left)
        assert abs(width - expected) <= 2, (widths, strip_right - strip_left)
    assert abs(shown["parts"][-1][1] - strip_right) <= 1  # the last stretch is not cut off
    assert shown["strip_fits"]
    assert len(shown["items"]) == 3 and "0:09" in shown["items"][2]
    assert shown["steps_weight"] < 600  # a list to read, not one bold run-on title


async def test_the_page_draws_tones_in_the_palettes_colours_and_the_dot_leaves_its_emoji(
    browser, tiny_hubert_dir, tmp_path, make_audio
):
    note = make_audio("note.ogg", 3.0)
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_colours_and_map, browser, site.web.url, note)
    painted = shown["painted"]
    assert {label for label, _ in painted} >= {"happy", "sad", "angry"}  # timeline and top rows
    for label, rgb in painted:
        assert rgb == _rgb(TONE_COLOURS[label]), (label, rgb)
    # The answer sits exactly on its own reference point: its emoji is still what shows there.
    assert shown["on_top"] == ["text", "spot own"], shown["on_top"]


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


# The answer moved onto its own label's reference point, sure of itself, with LONG_TIMELINE.
_ON_ITS_SPOT = """
const timeline = arguments[0];
const real = window.fetch;
window.fetch = async (...args) => {
  const response = await real(...args);
  if (!String(args[0]).includes("/api/analyse") || !response.ok) return response;
  const answer = await response.json();
  const catalogue = await (await real("/api/messages")).json();
  const [valence, arousal] = catalogue.affect[answer.label];
  Object.assign(answer, { duration_s: 12.0, timeline, valence, arousal, not_sure: false });
  return new Response(JSON.stringify(answer), { headers: { "Content-Type": "application/json" } });
};
"""
_PAINTED = """
const painted = [];
for (const el of document.querySelectorAll("#answer [data-label]")) {
  const style = getComputedStyle(el);
  const paint = el instanceof SVGElement
    ? (el.classList.contains("own-ring") ? style.stroke : el.tagName === "circle" ? style.fill : null)
    : style.backgroundColor;
  if (paint) painted.push([el.dataset.label, paint]);
}
const own = document.querySelector("#map .spot.own");
const r = own.getBoundingClientRect();
const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
return { painted, on_top: [top.tagName, top.getAttribute("class")] };
"""


def _colours_and_map(driver, url: str, note: Path) -> dict[str, object]:
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    driver.execute_script(_ON_ITS_SPOT, LONG_TIMELINE)
    driver.find_element(By.ID, "file").send_keys(str(note))
    _wait(driver, lambda d: d.find_element(By.ID, "timeline").is_displayed())
    driver.execute_script("document.getElementById('map').scrollIntoView()")
    shown = driver.execute_script(_PAINTED)
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "web-map-desktop.png"))
    _phone_screenshot(driver, ARTIFACTS / "web-map-phone.png")
    return shown


# The page's own fetch, with the answer's timeline replaced by LONG_TIMELINE (the tiny test
# model hears one stretch only).
_LONG_ANSWER = """
const timeline = arguments[0];
const real = window.fetch;
window.fetch = async (...args) => {
  const response = await real(...args);
  if (!String(args[0]).includes("/api/analyse") || !response.ok) return response;
  const answer = await response.json();
  Object.assign(answer, { duration_s: 12.0, timeline });
  return new Response(JSON.stringify(answer), { headers: { "Content-Type": "application/json" } });
};
"""
_MEASURE = """
const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.right]; };
const strip = document.getElementById("strip");
return {
  strip: box(strip),
  strip_fits: strip.getBoundingClientRect().right <= document.documentElement.clientWidth,
  parts: [...strip.children].map(box),
  items: [...document.querySelectorAll("#steps-list li")].map((li) => li.textContent),
  title: document.getElementById("steps").textContent,
  steps_weight: Number(getComputedStyle(document.querySelector("#steps-list li")).fontWeight),
};
"""


def _timeline_on_a_phone(driver, url: str, note: Path) -> dict[str, object]:
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    driver.execute_script(_LONG_ANSWER, LONG_TIMELINE)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        driver.find_element(By.ID, "file").send_keys(str(note))
        _wait(driver, lambda d: d.find_element(By.ID, "timeline").is_displayed())
        shown = driver.execute_script(_MEASURE)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    ARTIFACTS.mkdir(exist_ok=True)
    _phone_screenshot(driver, ARTIFACTS / "web-timeline-phone.png")
    driver.save_screenshot(str(ARTIFACTS / "web-timeline-desktop.png"))
    return shown


def _pick_file_and_read_answer(driver, url: str, note: Path) -> dict[str, object]:
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    driver.find_element(By.ID, "file").send_keys(str(note))
    _wait(driver, lambda d: d.find_element(By.ID, "answer").is_displayed())
    shown = {
        "sentence": driver.find_element(By.ID, "sentence").text,
        "map_dot": len(driver.find_elements(By.CSS_SELECTOR, "#map circle.note")),
        "top_rows": len(driver.find_elements(By.CSS_SELECTOR, "#top li")),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "web-answer-desktop.png"))
    _phone_screenshot(driver, ARTIFACTS / "web-answer-phone.png")
    driver.find_element(By.CSS_SELECTOR, "#feedback button").click()
    _wait(driver, lambda d: d.find_element(By.ID, "feedback-msg").text)
    shown["feedback"] = driver.find_element(By.ID, "feedback-msg").text
    return shown


def _switch_language(driver) -> str:
    from selenium.webdriver.common.by import By

    before = driver.find_element(By.ID, "sentence").text
    driver.find_element(By.ID, "lang").click()
    _wait(driver, lambda d: d.find_element(By.ID, "sentence").text != before)
    return str(driver.find_element(By.ID, "sentence").text)


def _record_and_read_answer(driver, url: str) -> str:
    import time

    from selenium.webdriver.common.by import By

    driver.get(url)
    driver.execute_script("localStorage.clear()")
    driver.refresh()
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    record = driver.find_element(By.ID, "record")
    record.click()
    _wait(driver, lambda d: record.get_attribute("aria-pressed") == "true")
    time.sleep(2.5)  # let the fake microphone speak
    record.click()
    _wait(driver, lambda d: d.find_element(By.ID, "answer").is_displayed())
    return str(driver.find_element(By.ID, "sentence").text)


def _phone_screenshot(driver, path: Path) -> None:
    """The whole answered page as a 390 px wide phone shows it, top to bottom."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {**PHONE, "height": int(height)}
        )
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _wait(driver, condition) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_S).until(condition)
