"""Faces read from real videos and photos: made here with the real ffmpeg from public-domain photos."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from inference.errors import NoVideoStream, UndecodableVideo
from inference.face import FACE_LABELS, read_image, read_video
from tests import audio_factory
from tests.face_factory import HOPPER_FACE, china, grey, hopper, moving_photo_video


@pytest.fixture
def face_video(ffmpeg, tmp_path):
    voice = audio_factory.speechlike(4.0)
    return moving_photo_video(ffmpeg, hopper(), tmp_path / "round.mp4", seconds=4.0, voice=voice)


def test_a_face_moving_across_a_video_note_is_found_on_most_frames(face_video):
    reading = read_video(face_video)
    assert reading.frames == 12  # 4 s at 3 frames a second
    assert reading.frames_with_face >= 10
    assert reading.label in FACE_LABELS
    assert reading.confidence == max(reading.probabilities.values())
    assert sum(reading.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert not reading.several_faces
    record = reading.to_json()
    assert set(record) >= {"label", "confidence", "probabilities", "frames", "frames_with_face"}
    json.dumps(record)


def test_the_video_may_come_as_bytes_and_frames_are_capped(face_video):
    reading = read_video(face_video.read_bytes(), fps=5, max_frames=7)
    assert reading.frames == 7
    assert reading.frames_with_face >= 5


def test_a_video_without_a_face_says_so(ffmpeg, tmp_path):
    video = moving_photo_video(ffmpeg, china(), tmp_path / "temple.mp4", seconds=3.0)
    reading = read_video(video)
    assert reading.frames == 9
    assert reading.frames_with_face == 0
    assert reading.label is None and not reading.found
    assert reading.to_json()["label"] is None


def test_a_corrupt_video_is_a_clear_error(face_video, tmp_path):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(face_video.read_bytes()[: face_video.stat().st_size // 3])
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(1).bytes(5000))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for broken in (truncated, garbage, empty):
        with pytest.raises(UndecodableVideo) as refused:
            read_video(broken)
        assert refused.value.code == "undecodable_video"
        assert "video" in str(refused.value)


def test_a_voice_note_has_no_picture_to_read(make_audio):
    with pytest.raises(NoVideoStream) as refused:
        read_video(make_audio("voice.ogg", 2.0))
    assert refused.value.code == "no_video"


def test_an_album_cover_in_an_audio_file_is_not_read_as_a_face(ffmpeg, make_audio, tmp_path):
    import subprocess

    song = make_audio("song.m4a", 2.0)
    covered = tmp_path / "covered.mp4"  # a portrait as its cover art
    subprocess.run(
        [ffmpeg, "-y", "-i", str(song), "-i", str(hopper()), "-map", "0:a", "-map", "1:v"]
        + ["-c:a", "copy", "-c:v", "mjpeg", "-disposition:v", "attached_pic", str(covered)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with pytest.raises(NoVideoStream):
        read_video(covered)


def test_a_photo_is_read_and_a_cropped_face_needs_no_detector(tmp_path):
    import cv2

    photo = read_image(hopper())
    assert photo.found and photo.frames == 1 and photo.frames_with_face == 1
    # A crop too tight for the detector to find a face in, read as a face as it is.
    x, y, w, h = HOPPER_FACE
    crop = tmp_path / "crop.png"
    cv2.imwrite(str(crop), grey(hopper())[y + 30 : y + h - 30, x + 30 : x + w - 30])
    assert not read_image(crop).found
    cropped = read_image(crop, cropped=True)
    assert cropped.found and cropped.frames_with_face == 1


def test_two_faces_in_a_photo_are_reported_and_the_larger_is_read(tmp_path):
    import cv2

    portrait = grey(hopper())
    small = cv2.resize(portrait, None, fx=0.6, fy=0.6)
    canvas = np.full((portrait.shape[0], portrait.shape[1] + small.shape[1]), 128, np.uint8)
    canvas[:, : portrait.shape[1]] = portrait
    canvas[: small.shape[0], portrait.shape[1] :] = small
    pair = tmp_path / "pair.png"
    cv2.imwrite(str(pair), canvas)
    reading = read_image(pair)
    assert reading.several_faces
    assert reading.frames_with_face == 1
    assert not read_image(hopper()).several_faces


def test_readings_from_several_threads_at_once_match_one_at_a_time(face_video):
    alone = read_video(face_video)
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda _: read_video(face_video), range(3)))
    for reading in together:
        assert reading.frames_with_face == alone.frames_with_face
        for label in FACE_LABELS:
            assert reading.probabilities[label] == pytest.approx(alone.probabilities[label])


def test_a_face_that_leaves_and_comes_back_is_counted_only_while_in_view(ffmpeg, tmp_path):
    import subprocess

    parts = [
        moving_photo_video(ffmpeg, hopper(), tmp_path / "a.mp4", seconds=2.0),
        moving_photo_video(ffmpeg, china(), tmp_path / "b.mp4", seconds=2.0),
        moving_photo_video(ffmpeg, hopper(), tmp_path / "c.mp4", seconds=2.0),
    ]
    joined = tmp_path / "joined.mp4"
    inputs = [arg for part in parts for arg in ("-i", str(part))]
    subprocess.run(
        [ffmpeg, "-y", *inputs, "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1[v]"]
        + ["-map", "[v]", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(joined)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    reading = read_video(joined)
    assert reading.frames == 18
    # 6 frames of each part; a frame on either side of a cut may hold either picture.
    assert 10 <= reading.frames_with_face <= 13, reading.frames_with_face


def test_a_video_that_takes_too_long_to_decode_is_stopped_with_a_clear_error(face_video):
    from inference.face.frames import video_frames

    with pytest.raises(UndecodableVideo) as stopped:
        list(video_frames(face_video, timeout_s=0.001))
    assert "too long" in str(stopped.value)
