"""`voicemood classify` on videos and photos: the face beside the voice, and both fused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import audio_factory
from tests.face_factory import HOPPER_FACE, china, grey, hopper, moving_photo_video
from tests.subprocess_env import voicemood_env


def _classify(*args: str, model: Path | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voicemood", "classify", *args],
        capture_output=True,
        text=True,
        env=voicemood_env(VOICEMOOD_MODEL=str(model)),
        cwd=cwd,
        timeout=300,
    )


def _video(ffmpeg: str, photo: Path, path: Path) -> Path:
    voice = audio_factory.speechlike(3.0)
    return moving_photo_video(ffmpeg, photo, path, seconds=3.0, voice=voice)


def test_a_video_gives_the_voice_the_face_and_both_fused(ffmpeg, tiny_hubert_dir, tmp_path):
    video = _video(ffmpeg, hopper(), tmp_path / "round.mp4")
    result = _classify("--json", str(video), model=tiny_hubert_dir, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["label"] in record["probabilities"]  # the voice, as for any audio file
    face = record["face"]
    assert face["frames"] == 9 and face["frames_with_face"] >= 7
    assert face["label"] in face["probabilities"]
    fused = record["fused"]
    assert set(fused) >= {"label", "confidence", "valence", "arousal", "quadrant", "disagree"}
    assert fused["voice_weight"] + fused["face_weight"] == pytest.approx(1.0, abs=1e-3)
    assert fused["face_weight"] > 0

    text = _classify(str(video), model=tiny_hubert_dir, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "tone" in text.stdout  # the voice's answer, sure or not
    assert "The face looks" in text.stdout or "The face is hard to read" in text.stdout


def test_a_video_without_a_face_is_answered_from_the_voice_alone(ffmpeg, tiny_hubert_dir, tmp_path):
    video = _video(ffmpeg, china(), tmp_path / "temple.mp4")
    record = json.loads(_classify("--json", str(video), model=tiny_hubert_dir, cwd=tmp_path).stdout)
    assert record["face"]["label"] is None and record["face"]["frames_with_face"] == 0
    assert record["fused"]["label"] == record["label"]
    assert record["fused"]["face_weight"] == 0
    text = _classify("--lang", "ko", str(video), model=tiny_hubert_dir, cwd=tmp_path).stdout
    assert "목소리로만 답했어요" in text


def test_photos_give_the_face_alone_without_loading_a_voice_model(tmp_path):
    import cv2

    x, y, w, h = HOPPER_FACE
    crop = tmp_path / "crop.png"
    cv2.imwrite(str(crop), grey(hopper())[y + 30 : y + h - 30, x + 30 : x + w - 30])
    nowhere = tmp_path / "no-such-model"  # photos alone never load it
    result = _classify("--json", str(hopper()), str(crop), model=nowhere, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    portrait, tight = (json.loads(line) for line in result.stdout.splitlines())
    assert set(portrait) == {"file", "face"}
    assert portrait["face"]["label"] is not None and portrait["face"]["frames"] == 1
    assert tight["face"]["label"] is None  # too tight a crop for the detector
    cropped = json.loads(
        _classify("--json", "--face-crop", str(crop), model=nowhere, cwd=tmp_path).stdout
    )
    assert cropped["face"]["label"] is not None and cropped["face"]["frames_with_face"] == 1
    text = _classify(str(hopper()), model=nowhere, cwd=tmp_path).stdout
    assert "The face looks" in text and "tone of voice" not in text


def test_a_corrupt_video_and_a_corrupt_photo_get_clear_errors(tiny_hubert_dir, tmp_path):
    video = tmp_path / "broken.mp4"
    video.write_bytes(np.random.default_rng(3).bytes(4000))
    photo = tmp_path / "broken.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + np.random.default_rng(4).bytes(4000))
    result = _classify("--json", str(video), str(photo), model=tiny_hubert_dir, cwd=tmp_path)
    assert result.returncode == 1  # every file failed
    broken_video, broken_photo = (json.loads(line) for line in result.stdout.splitlines())
    assert broken_video["code"] == "undecodable"
    assert broken_video["face"]["code"] == "undecodable_video" and broken_video["face"]["error"]
    assert broken_photo["code"] == "undecodable_video" and broken_photo["error"]
    assert "Traceback" not in result.stderr
