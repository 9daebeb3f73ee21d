"""The face's words in English and Korean: how it looks, unsure, unseen, and beside the voice."""

from __future__ import annotations

from bots.face_replies import render_face, render_fusion
from bots.i18n import TEXT
from inference.face import FaceReading, fuse

_LABELS = ("angry", "disgust", "fearful", "happy", "sad", "surprised", "neutral")


def _face(label: str, confidence: float, *, frames: int = 30, several: bool = False) -> FaceReading:
    rest = (1.0 - confidence) / 6
    probabilities = {other: (confidence if other == label else rest) for other in _LABELS}
    return FaceReading(label, confidence, probabilities, frames, frames - 2, several)


def test_a_face_is_worded_with_how_sure_and_on_how_many_frames():
    assert render_face(_face("happy", 0.8), "en") == (
        "😊 The face looks happy (80% sure; a face was seen in 28 of 30 frames)."
    )
    korean = render_face(_face("happy", 0.8), "ko")
    assert "얼굴 표정" in korean and "80%" in korean and "30" in korean


def test_an_unsure_face_names_its_two_likeliest_readings():
    face = FaceReading(
        "sad", 0.4, {"sad": 0.4, "neutral": 0.35, "happy": 0.25}, frames=9, frames_with_face=9
    )
    line = render_face(face, "en")
    assert "hard to read" in line and "sad (40%)" in line and "neutral (35%)" in line


def test_no_face_says_so_and_whether_the_voice_answers_alone():
    unseen = FaceReading(None, 0.0, frames=30)
    assert "voice alone" in render_face(unseen, "en")
    assert "voice" not in render_face(unseen, "en", voice_heard=False)
    assert "picture" in render_face(FaceReading(None, 0.0, frames=1), "en")
    assert render_fusion("calm", unseen, fuse({"calm": 1.0}, 1.0, unseen), "en") is None


def test_an_unsure_side_gets_no_combined_line():
    calm_voice = {"calm": 0.8, "neutral": 0.2}
    happy = _face("happy", 0.7)
    fused = fuse(calm_voice, 0.8, happy)
    assert render_fusion("calm", happy, fused, "en", voice_not_sure=True) is None
    unsure_face = _face("happy", 0.4)
    assert render_fusion("calm", unsure_face, fuse(calm_voice, 0.8, unsure_face), "en") is None


def test_several_faces_are_mentioned():
    assert "largest" in render_face(_face("neutral", 0.9, several=True), "en")


def test_voice_and_face_together_or_in_disagreement():
    calm_voice = {"calm": 0.8, "neutral": 0.2}
    happy = _face("happy", 0.7)
    together = render_fusion("calm", happy, fuse(calm_voice, 0.8, happy), "en")
    assert together is not None
    assert "the voice sounds calm; the face looks happy" in together
    sad_voice = {"sad": 0.9, "neutral": 0.1}
    very_happy = _face("happy", 0.9)
    apart = render_fusion("sad", very_happy, fuse(sad_voice, 0.9, very_happy), "en")
    assert apart is not None and "disagree" in apart
    korean = render_fusion("sad", very_happy, fuse(sad_voice, 0.9, very_happy), "ko")
    assert korean is not None and "서로 달라요" in korean


def test_every_face_sentence_exists_in_both_languages():
    keys = [key for key in TEXT["en"] if key.startswith("face.")]
    assert len(keys) >= 8
    for key in [
        *keys,
        "error.undecodable_video",
        "error.no_video",
        "error.face",
        "error.face_model",
    ]:
        assert TEXT["ko"][key] and TEXT["ko"][key] != TEXT["en"][key], key
