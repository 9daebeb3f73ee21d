import pytest

from inference.affect import valence_arousal
from inference.labels import AFFECT, affect_of


def test_a_certain_reading_sits_on_its_label():
    assert valence_arousal({"sad": 1.0}) == (AFFECT["sad"].valence, AFFECT["sad"].arousal)


def test_the_place_is_the_expected_value_over_the_probabilities():
    valence, arousal = valence_arousal({"happy": 0.25, "angry": 0.75})
    assert valence == pytest.approx(0.25 * 0.8 + 0.75 * -0.6)
    assert arousal == pytest.approx(0.25 * 0.5 + 0.75 * 0.8)


def test_it_agrees_with_the_answers_own_place():
    probabilities = {"neutral": 0.1, "calm": 0.2, "sad": 0.3, "fearful": 0.4}
    point = affect_of(probabilities)
    assert valence_arousal(probabilities) == pytest.approx((point.valence, point.arousal))


def test_a_face_models_own_labels_land_where_the_canonical_ones_do():
    assert valence_arousal({"fear": 0.5, "surprise": 0.5}) == valence_arousal(
        {"fearful": 0.5, "surprised": 0.5}
    )


def test_unnormalised_and_empty_readings():
    assert valence_arousal({"happy": 2.0, "sad": 2.0}) == valence_arousal(
        {"happy": 0.5, "sad": 0.5}
    )
    assert valence_arousal({}) == (0.0, 0.0)
