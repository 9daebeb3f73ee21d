from bots.i18n import LABEL_NAMES, TEXT, t
from bots.replies import render_error, render_prediction
from inference.answer import Segment, make_prediction
from inference.errors import (
    Busy,
    EmptyAudio,
    NoAudioStream,
    SilentAudio,
    TooLarge,
    TooLong,
    TooShort,
    UndecodableAudio,
    VoiceMoodError,
)


def _prediction(probs, timeline=()):
    return make_prediction(
        probs, duration_s=3.0, model="test", not_sure_below=0.5, timeline=timeline
    )


def test_confident_answer_names_the_tone_and_confidence_in_english_and_korean():
    p = _prediction({"happy": 0.8, "sad": 0.1, "neutral": 0.1})
    assert render_prediction(p, "en") == "😊 The tone of voice sounds happy (80% sure)."
    assert render_prediction(p, "ko") == "😊 목소리 톤이 '기쁨'에 가깝게 들려요 (확신도 80%)."


def test_unsure_answer_says_so_and_names_the_two_likeliest_readings():
    p = _prediction({"calm": 0.41, "neutral": 0.35, "sad": 0.24})
    assert p.not_sure
    text = render_prediction(p, "en")
    assert "not sure" in text and "calm (41%)" in text and "neutral (35%)" in text
    assert "확실하지 않아요" in render_prediction(p, "ko")


def test_long_note_reply_shows_where_the_tone_changed():
    timeline = [Segment(0, 8, "neutral", 0.7), Segment(8, 16, "angry", 0.8)]
    p = _prediction({"neutral": 0.5, "angry": 0.5}, timeline)
    lines = render_prediction(p, "en").splitlines()
    assert lines[1] == "How the tone moved: 0:00 😐 neutral → 0:08 😠 angry"


def test_replies_speak_of_the_tone_of_voice_not_of_feelings():
    for lang in ("en", "ko"):
        for label in LABEL_NAMES[lang]:
            text = render_prediction(_prediction({label: 0.9, "other": 0.1}), lang)
            assert "feel" not in text.lower()
            assert ("tone" in text) if lang == "en" else ("톤" in text)


def test_every_user_error_has_a_polite_sentence_in_both_languages():
    errors = [
        EmptyAudio("x"),
        UndecodableAudio("x"),
        NoAudioStream("x"),
        SilentAudio("x"),
        TooShort("x"),
        TooLarge("x", limit_mb=20),
        TooLong("x", limit_s=600),
        Busy("x"),
    ]
    for error in errors:
        en, ko = render_error(error, "en"), render_error(error, "ko")
        assert en != TEXT["en"]["error.error"], error.code
        assert en.endswith(".") and ko and en != ko
    assert "20 MB" in render_error(TooLarge("x", limit_mb=20), "en")
    assert "10 minutes" in render_error(TooLong("x", limit_s=600), "en")


def test_unknown_error_code_falls_back_to_a_generic_apology():
    assert render_error(VoiceMoodError("boom"), "ko") == TEXT["ko"]["error.error"]


def test_both_languages_have_the_same_sentences():
    assert TEXT["en"].keys() == TEXT["ko"].keys()
    assert LABEL_NAMES["en"].keys() == LABEL_NAMES["ko"].keys()


def test_an_unsure_stretch_of_a_long_note_is_worded_as_a_guess_in_both_languages():
    timeline = [Segment(0, 8, "neutral", 0.7), Segment(8, 16, "sad", 0.38, not_sure=True)]
    p = _prediction({"neutral": 0.6, "sad": 0.4}, timeline)
    assert render_prediction(p, "en").splitlines()[1] == (
        "How the tone moved: 0:00 😐 neutral → 0:08 🤔 maybe sad (not sure)"
    )
    assert render_prediction(p, "ko").splitlines()[1] == (
        "톤의 흐름: 0:00 😐 중립 → 0:08 🤔 '슬픔'일지도 몰라요 (확실하지 않음)"
    )
    assert [s["not_sure"] for s in p.to_json()["timeline"]] == [False, True]


def test_privacy_names_every_command_that_keeps_or_shows_something_in_both_languages():
    for lang in ("en", "ko"):
        text = t(lang, "privacy")
        for command in ("/donate", "/baseline", "/words", "/transcript", "/export", "/forget"):
            assert command in text, (lang, command)
