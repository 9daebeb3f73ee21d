import pytest

from inference.labels import (
    AFFECT,
    CANONICAL_LABELS,
    SCHEMES,
    UnknownLabel,
    affect_of,
    canonical_columns,
    to_canonical,
)


def test_every_scheme_maps_into_the_canonical_set():
    for scheme, table in SCHEMES.items():
        for native in table:
            assert to_canonical(native, scheme) in CANONICAL_LABELS, (scheme, native)


def test_every_canonical_label_has_a_place_on_the_valence_arousal_plane():
    assert set(AFFECT) == set(CANONICAL_LABELS)
    assert AFFECT["happy"].valence > 0 > AFFECT["sad"].valence
    assert AFFECT["angry"].arousal > 0 > AFFECT["bored"].arousal


def test_superb_labels_map_to_four_canonical_columns_in_canonical_order():
    assert canonical_columns(["neu", "hap", "ang", "sad"]) == ("neutral", "happy", "sad", "angry")


def test_emotion2vec_bilingual_labels_are_understood():
    assert to_canonical("生气/angry") == "angry"
    assert to_canonical("厌恶/disgusted") == "disgust"


def test_unknown_label_in_a_strict_scheme_raises_and_elsewhere_is_other():
    with pytest.raises(UnknownLabel):
        to_canonical("frustrated", "ravdess")
    assert to_canonical("frustrated") == "other"


def test_korean_corpora_labels_map():
    assert to_canonical("분노", "aihub7") == "angry"
    assert to_canonical("불안", "aihub6") == "fearful"
    assert to_canonical("기쁨", "kesdy18") == "happy"


def test_affect_is_the_probability_weighted_position():
    point = affect_of({"happy": 0.5, "sad": 0.5})
    assert point.valence == pytest.approx((0.8 - 0.7) / 2)
