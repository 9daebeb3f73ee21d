"""Voice and face on one valence/arousal plane, weighted by how sure each side is."""

from __future__ import annotations

import math

import pytest

from inference.affect import valence_arousal
from inference.face import DISAGREE_DISTANCE, FaceReading, fuse
from inference.labels import AFFECT


def _face(label: str, confidence: float) -> FaceReading:
    rest = (1.0 - confidence) / 6
    labels = ("angry", "disgust", "fearful", "happy", "sad", "surprised", "neutral")
    probabilities = {other: (confidence if other == label else rest) for other in labels}
    return FaceReading(label, confidence, probabilities, frames=30, frames_with_face=28)


def test_without_a_face_the_fused_reading_is_the_voice_alone():
    voice = {"calm": 0.7, "sad": 0.2, "neutral": 0.1}
    fused = fuse(voice, 0.7, FaceReading(label=None, confidence=0.0, frames=30))
    assert fused.label == "calm" and fused.confidence == pytest.approx(0.7)
    assert (fused.voice_weight, fused.face_weight) == (1.0, 0.0)
    assert not fused.disagree
    expected_valence = 0.7 * AFFECT["calm"].valence + 0.2 * AFFECT["sad"].valence
    assert fused.valence == pytest.approx(expected_valence, abs=1e-3)


def test_each_side_weighs_as_much_as_it_is_sure():
    voice = {"calm": 0.9, "neutral": 0.1}
    face = _face("happy", 0.6)
    fused = fuse(voice, 0.9, face)
    assert fused.voice_weight == pytest.approx(0.6)
    assert fused.face_weight == pytest.approx(0.4)
    assert fused.label == "calm"
    # The fused place is the weighted mean of the two sides' places.
    heard, seen = valence_arousal(voice), valence_arousal(face.probabilities)
    assert fused.valence == pytest.approx(0.6 * heard[0] + 0.4 * seen[0], abs=1e-3)
    assert fused.arousal == pytest.approx(0.6 * heard[1] + 0.4 * seen[1], abs=1e-3)
    assert not fused.disagree  # calm and happy are both pleasant
    assert fused.to_json()["quadrant"] == fused.quadrant


def test_a_happy_face_and_a_sad_voice_disagree_instead_of_averaging_to_neutral():
    fused = fuse({"sad": 0.9, "neutral": 0.1}, 0.9, _face("happy", 0.9))
    assert fused.disagree
    assert fused.distance > DISAGREE_DISTANCE
    assert fused.to_json()["disagree"] is True


def test_unsure_sides_do_not_count_as_disagreeing():
    # Both sides spread thin: their places sit near the middle of the plane.
    voice = {"sad": 0.35, "neutral": 0.35, "calm": 0.3}
    fused = fuse(voice, 0.35, _face("happy", 0.35))
    assert not fused.disagree


def test_the_disagreement_threshold_separates_the_documented_pairs():
    def apart(a: str, b: str) -> float:
        return math.dist(
            (AFFECT[a].valence, AFFECT[a].arousal), (AFFECT[b].valence, AFFECT[b].arousal)
        )

    for a, b in (("happy", "sad"), ("happy", "angry"), ("sad", "angry"), ("calm", "angry")):
        assert apart(a, b) > DISAGREE_DISTANCE, (a, b)
    for a, b in (("calm", "happy"), ("calm", "sad"), ("neutral", "happy"), ("happy", "surprised")):
        assert apart(a, b) < DISAGREE_DISTANCE, (a, b)
