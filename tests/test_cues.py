"""Voice cues: the JSON contract, the reply's line, the speaker's usual cues, real recordings."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from bots.replies import render_prediction
from inference.answer import make_prediction
from inference.cues import (
    CUE_NAMES,
    MIN_USUAL_NOTES,
    TYPICAL,
    CueBaseline,
    Cues,
    compare,
    cues_of,
    measure,
)
from tests.audio_factory import speechlike

WORDS = {"higher", "lower", "typical", None}


def _answer(cues: Cues | None):
    return make_prediction(
        {"angry": 0.9, "sad": 0.1}, duration_s=5.0, model="m", not_sure_below=0.5, cues=cues
    )


def _holds_the_contract(cues_json: dict) -> None:
    assert set(cues_json) == set(CUE_NAMES)
    for cue in cues_json.values():
        assert set(cue) == {"value", "usual", "word"}
        assert cue["word"] in WORDS
        assert cue["value"] is None or isinstance(cue["value"], float)


def test_every_answer_carries_every_cue_key_with_a_word_from_the_allowed_set():
    measured = _answer(cues_of(speechlike(5.0)))
    _holds_the_contract(measured.to_json()["cues"])
    assert measured.to_json()["cues"]["pitch_hz"]["value"] is not None
    # Nothing measured (a model answer built without cues): still every key, all null.
    bare = _answer(None).to_json()["cues"]
    _holds_the_contract(bare)
    assert all(v == {"value": None, "usual": None, "word": None} for v in bare.values())


def test_a_note_without_voice_has_null_pitch_rather_than_a_made_up_one():
    noise = np.random.default_rng(0).normal(0, 0.1, 16_000 * 3).astype(np.float32)
    cues = cues_of(noise)
    _holds_the_contract(cues.to_json())
    assert cues.pitch_hz.value is None and cues.pitch_hz.word is None
    assert cues_of(np.zeros(16_000, np.float32)).to_json() == Cues.empty_json()


def test_pitch_of_a_voice_is_measured_and_read_against_typical_voices_of_its_pitch():
    low = cues_of(speechlike(5.0, f0=110.0))
    high = cues_of(speechlike(5.0, f0=220.0))
    assert 90 < low.pitch_hz.value < 135 and 180 < high.pitch_hz.value < 270
    assert low.pitch_hz.usual == TYPICAL["low"]["pitch_hz"]
    assert high.pitch_hz.usual == TYPICAL["high"]["pitch_hz"]
    assert low.against == high.against == "typical"


def test_the_speakers_own_cues_replace_typical_ones_once_they_rest_on_enough_notes():
    deep = measure(speechlike(5.0, f0=100.0))
    usual = CueBaseline.empty()
    for _ in range(MIN_USUAL_NOTES - 1):
        usual = usual.updated(compare(deep))
    assert compare(deep, usual).against == "typical"
    usual = CueBaseline.from_bytes(usual.updated(compare(deep)).to_bytes())
    assert usual.count == MIN_USUAL_NOTES
    raised = compare(measure(speechlike(5.0, f0=160.0)), usual)
    assert raised.against == "own"
    assert raised.pitch_hz.usual is not None and abs(raised.pitch_hz.usual - deep.pitch_hz) < 1e-6
    assert raised.pitch_hz.word == "higher"
    assert compare(deep, usual).pitch_hz.word == "typical"


def test_the_reply_gains_one_literal_cue_line_no_longer_than_the_answer():
    answer = _answer(cues_of(speechlike(5.0, f0=320.0)))
    for lang in ("en", "ko"):
        first, *rest = render_prediction(answer, lang).split("\n")
        assert len(rest) == 1 and len(rest[0]) <= len(first)
    en = render_prediction(answer, "en").split("\n")[1]
    assert en.startswith("Voice: higher") and en.endswith("than typical")
    assert render_prediction(answer, "ko").split("\n")[1].startswith("목소리: ")
    assert "\n" not in render_prediction(_answer(None), "en")


def test_on_held_out_actors_angry_notes_sound_higher_and_louder_than_neutral_ones(
    shared_data, ravdess_rows
):
    import librosa

    medians: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for row in ravdess_rows:
        strong_angry = row["emotion"] == "angry" and row["intensity"] == "strong"
        if int(row["speaker"]) < 17 or not (strong_angry or row["emotion"] == "neutral"):
            continue
        y, _ = librosa.load(shared_data / "ravdess" / row["path"], sr=16_000)
        m = measure(y)
        assert m.pitch_hz is not None and m.loudness_db is not None
        medians[(row["speaker"], row["emotion"])].append((m.pitch_hz, m.loudness_db))
    actors = sorted({speaker for speaker, _ in medians})
    assert len(actors) == 4
    moved = 0
    for actor in actors:
        angry = np.median(medians[(actor, "angry")], axis=0)
        neutral = np.median(medians[(actor, "neutral")], axis=0)
        moved += int(angry[0] > neutral[0] and angry[1] > neutral[1])
    assert moved >= 3
