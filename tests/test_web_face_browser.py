"""The page's camera in a real headless Chromium: off by default; ticked, the fake camera plays a
real face photo moving across the frames (tests/face_factory.py, as a y4m file Chromium reads)
while the fake microphone speaks, and the answer shows what the face looked like. Nothing is kept.

Uses the Chromium and chromedriver that tests/test_web_browser.py needs (it says how to install them).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import audio_factory, face_factory
from tests.test_web_browser import CHROMEDRIVER, CHROMIUM, INSTALL_HINT, _wait
from tests.web_factory import running_web


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory, ffmpeg) -> Iterator[object]:
    """Headless Chromium whose fake camera shows Grace Hopper's portrait and fake microphone speaks."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(INSTALL_HINT)
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.fail(INSTALL_HINT)
    folder = tmp_path_factory.mktemp("chromium-camera")
    microphone = audio_factory.write_wav(folder / "mic.wav", audio_factory.speechlike(6.0, seed=3))
    mp4 = face_factory.moving_photo_video(
        ffmpeg, face_factory.hopper(), folder / "face.mp4", seconds=6.0, side=320
    )
    camera = folder / "camera.y4m"
    subprocess.run(
        [ffmpeg, "-y", "-loglevel", "error", "-i", str(mp4), "-pix_fmt", "yuv420p", str(camera)],
        check=True,
        timeout=120,
    )
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
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        f"--use-file-for-fake-video-capture={camera}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(folder / "profile", ignore_errors=True)


async def test_the_camera_is_off_by_default_and_ticked_the_answer_says_how_the_face_looked(
    camera_browser, tiny_hubert_dir, tmp_path
):
    async with running_web(tiny_hubert_dir, tmp_path) as site:
        shown = await asyncio.to_thread(_record_with_camera, camera_browser, site.web.url)
        kept = site.counts()["notes"], site.audio_files()

    assert shown["ticked_at_first"] is False
    assert "%" in shown["sentence"]
    assert "face" in shown["face_line"].lower(), shown["face_line"]
    assert "seen in" in shown["face_line"], shown["face_line"]  # a face was found on frames
    assert shown["preview_hidden_after"] is True
    assert kept == (0, [])


def _record_with_camera(driver, url: str) -> dict[str, object]:
    from selenium.webdriver.common.by import By

    driver.get(url)
    driver.execute_script("localStorage.clear()")
    driver.refresh()
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    camera = driver.find_element(By.ID, "camera")
    ticked_at_first = camera.is_selected()
    camera.click()
    record = driver.find_element(By.ID, "record")
    record.click()
    _wait(driver, lambda d: record.get_attribute("aria-pressed") == "true")
    _wait(driver, lambda d: d.find_element(By.ID, "camera-view").is_displayed())
    time.sleep(3.0)  # let the fake camera and microphone run
    record.click()
    _wait(driver, lambda d: d.find_element(By.ID, "answer").is_displayed())
    return {
        "ticked_at_first": ticked_at_first,
        "sentence": driver.find_element(By.ID, "sentence").text,
        "face_line": driver.find_element(By.ID, "face-line").text,
        "preview_hidden_after": not driver.find_element(By.ID, "camera-view").is_displayed(),
    }
