"""Only speech is heard: the speech detector, the analyser's gate and speech-only pooling.

Non-speech is generated here (tests/audio_factory.NOT_SPEECH) and encoded by the real ffmpeg;
speech is espeak-ng's real synthetic voice (skips without it, fails in CI) and RAVDESS from
../shared/data (skips without it).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bots.i18n import t
from bots.replies import render_error
from inference.analysis import AnalysisConfig, Analyzer
from inference.audio import Audio
from inference.errors import NoSpeech, TooLittleSpeech
from inference.speech import Speech, find_speech, main_voice, speech_only
from inference.worker import InferenceWorker
from tests.audio_factory import NOT_SPEECH
from tests.conftest import spoken_samples

SR = 16_000
HELD_OUT = ("17", "18", "19", "20")


class RecordingModel:
    """Answers neutral for the first clip it is given and angry after; keeps every clip it heard."""

    name = "recording"
    labels: tuple[str, ...] = ("neutral", "happy", "sad", "angry")

    def __init__(self) -> None:
        self.heard: list[np.ndarray] = []

    def predict(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        rows = []
        for wave in batch:
            rows.append((0.9, 0.03, 0.03, 0.04) if not self.heard else (0.04, 0.03, 0.03, 0.9))
            self.heard.append(np.asarray(wave))
        return np.array(rows, np.float32)


def few_words(seconds: float = 0.4, note_s: float = 3.0) -> np.ndarray:
    """`seconds` of a spoken voice in the middle of a quiet note `note_s` long."""
    note = np.random.default_rng(0).normal(0, 1e-3, int(note_s * SR)).astype(np.float32)
    words = spoken_samples(seconds, seed=4)
    start = (len(note) - len(words)) // 2
    note[start : start + len(words)] += words
    return note


async def _analyse(samples: np.ndarray, **config: object):
    model = RecordingModel()
    async with InferenceWorker(model) as worker:
        analyzer = Analyzer(worker, AnalysisConfig(window_s=4.0, cues=False, **config))  # type: ignore[arg-type]
        return await analyzer.analyse_audio(Audio(samples)), model


# The detector


@pytest.mark.parametrize("kind", list(NOT_SPEECH))
def test_generated_sounds_that_are_not_speech_hold_no_speech(kind):
    for seed in range(3):
        assert find_speech(NOT_SPEECH[kind](4.0, seed=seed)).spans == (), (kind, seed)


def test_a_spoken_voice_is_speech_from_start_to_end_of_a_long_note():
    speech = find_speech(spoken_samples(30.0, seed=1))
    assert speech.seconds > 25
    assert speech.spans[0][0] < SR and speech.spans[-1][1] > 29 * SR


def test_held_out_ravdess_clips_all_hold_speech(shared_data):
    import soundfile as sf

    with open(shared_data / "ravdess" / "metadata.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["speaker"] in HELD_OUT]
    assert len(rows) == 240
    for row in rows:
        samples, _ = sf.read(shared_data / "ravdess" / row["path"], dtype="float32")
        assert find_speech(samples).seconds > 0.3, row["path"]


def test_threads_asking_at_once_share_one_model_and_get_the_same_answer():
    voice = spoken_samples(5.0, seed=2)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: find_speech(voice), range(16)))
    assert all(a == answers[0] for a in answers) and answers[0].seconds > 4


def test_speech_only_keeps_a_pad_around_each_stretch_and_maps_back_to_the_note():
    samples = np.arange(10 * SR, dtype=np.float32)
    speech = Speech(((1 * SR, 2 * SR), (2 * SR + 800, 3 * SR), (6 * SR, 7 * SR)))
    only = speech_only(samples, speech, pad_s=0.1)
    # The first two stretches are 800 samples apart, within two pads: one piece.
    assert only.spans == ((SR - 1600, 3 * SR + 1600), (6 * SR - 1600, 7 * SR + 1600))
    assert len(only.samples) == sum(b - a for a, b in only.spans)
    for index in (0, 5, 2 * SR + 3199, 2 * SR + 3200, len(only.samples) - 1):
        assert only.samples[index] == samples[only.original(index)]
    # A boundary between pieces maps to the later piece's start; the end to the last piece's end.
    assert only.original(2 * SR + 3200) == 6 * SR - 1600
    assert only.original(len(only.samples)) == 7 * SR + 1600


# The analyser


@pytest.mark.parametrize("kind", ["chord", "white noise", "applause"])
async def test_a_chord_noise_or_applause_file_is_answered_no_speech(make_audio, kind):
    note = make_audio("sound.ogg", samples=NOT_SPEECH[kind](4.0, seed=5))
    async with InferenceWorker(RecordingModel()) as worker:
        with pytest.raises(NoSpeech) as caught:
            await Analyzer(worker).analyse(note)
    assert caught.value.code == "no_speech"
    assert render_error(caught.value, "en") == t("en", "error.no_speech")
    assert "speech" in render_error(caught.value, "en")
    assert render_error(caught.value, "ko") == t("ko", "error.no_speech")


async def test_less_speech_than_the_minimum_is_too_little_and_never_reaches_the_model():
    model = RecordingModel()
    async with InferenceWorker(model) as worker:
        with pytest.raises(TooLittleSpeech) as caught:
            await Analyzer(worker).analyse_audio(Audio(few_words(0.4)))
    assert caught.value.code == "too_little_speech"
    assert render_error(caught.value, "en") == t("en", "error.too_little_speech")
    assert model.heard == []


async def test_the_minimum_of_speech_is_the_configured_one():
    prediction, _ = await _analyse(few_words(1.5), min_speech_s=1.0)
    assert 1.2 < prediction.speech_s < 1.7
    with pytest.raises(TooLittleSpeech):
        await _analyse(few_words(1.5), min_speech_s=2.0)


async def test_a_real_speech_clip_is_answered_with_the_speech_it_holds(shared_data, ravdess_rows):
    import soundfile as sf

    row = next(r for r in ravdess_rows if r["speaker"] == "17")
    samples, _ = sf.read(shared_data / "ravdess" / row["path"], dtype="float32")
    prediction, _ = await _analyse(samples)
    assert 1.0 < prediction.speech_s < len(samples) / SR
    assert prediction.to_json()["speech_s"] == round(prediction.speech_s, 2)


async def test_a_long_pause_is_cut_out_and_the_timeline_keeps_the_notes_own_seconds():
    voice = spoken_samples(3.0, seed=1)
    note = np.concatenate([voice, np.zeros(6 * SR, np.float32), spoken_samples(3.0, seed=2)])
    prediction, model = await _analyse(note, pool_speech_only=True, windows="fixed")
    heard = sum(len(w) for w in model.heard)
    # Two windows over ~6.4 s of speech (the end one overlapping), not three over 12 s.
    assert len(model.heard) == 2 and heard < 8.5 * SR
    first, second = prediction.timeline
    assert first.start_s < 0.2 and second.end_s == pytest.approx(12.0, abs=0.05)
    # The first window's 4 s of speech end inside the second voice: past the 6 s pause.
    assert 9.0 < first.end_s < 11.0 and second.start_s == first.end_s
    assert prediction.duration_s == pytest.approx(12.0)


async def test_phrase_windows_hear_each_voice_alone_and_split_the_pause_between_them():
    voice = spoken_samples(3.0, seed=1)
    note = np.concatenate([voice, np.zeros(6 * SR, np.float32), spoken_samples(3.0, seed=2)])
    prediction, model = await _analyse(note, pool_speech_only=True, windows="phrases")
    # One window per voice: neither hears a word of the other.
    assert len(model.heard) == 2 and all(len(w) < 3.6 * SR for w in model.heard)
    first, second = prediction.timeline
    assert first.start_s < 0.2 and second.end_s == pytest.approx(12.0, abs=0.05)
    # The change is placed in the middle of the pause, not at either voice.
    assert 5.0 < first.end_s < 7.0 and second.start_s == first.end_s
    assert (first.label, second.label) == ("neutral", "angry")


@pytest.mark.parametrize(("speech_only", "most_heard_s"), [(True, 12.5), (False, 16.0)])
async def test_windows_of_a_long_note_that_are_loud_noise_are_not_heard(speech_only, most_heard_s):
    noise = NOT_SPEECH["pink noise"](20.0, seed=1) * 0.5
    note = np.concatenate([spoken_samples(5.0, seed=1), noise, spoken_samples(5.0, seed=2)])
    gated, model = await _analyse(note, pool_speech_only=speech_only)
    whole, unfiltered = await _analyse(note, speech_gate=False)
    assert sum(len(w) for w in model.heard) <= most_heard_s * SR
    assert sum(len(w) for w in unfiltered.heard) >= 28 * SR
    assert whole.speech_s is None and 8.5 < gated.speech_s < 10.5
    for stretch in gated.timeline:  # no stretch of the answer is noise alone
        assert not (stretch.start_s >= 5.2 and stretch.end_s <= 24.8), stretch


async def test_the_cues_still_hear_the_pauses_the_model_does_not():
    note = np.concatenate(
        [spoken_samples(3.0, seed=1), np.zeros(2 * SR, np.float32), spoken_samples(3.0, seed=2)]
    )
    async with InferenceWorker(RecordingModel()) as worker:
        prediction = await Analyzer(worker, AnalysisConfig(cues=True)).analyse_audio(Audio(note))
    assert prediction.cues is not None and prediction.cues.longest_pause_s >= 1.8


# The main voice: other people talking more quietly around the note's speaker (a café)


def cafe_note(speaker_s: float = 2.5, around_s: float = 1.5, below_db: float = 26.0):
    """Others talking `below_db` under the speaker, alone before and after, and under them too."""
    speaker = spoken_samples(speaker_s, seed=1)
    n = int(around_s * SR)
    crowd = sum(spoken_samples(speaker_s + 2 * around_s, seed=seed) for seed in (5, 6, 7))
    crowd = crowd[: len(speaker) + 2 * n]
    rms = float(np.sqrt(np.mean(np.square(speaker))))
    crowd = crowd / float(np.sqrt(np.mean(np.square(crowd)))) * rms * 10 ** (-below_db / 20)
    note = crowd.astype(np.float32)
    note[n : n + len(speaker)] += speaker
    return note, (n, n + len(speaker))


def test_the_main_voice_is_the_speaker_not_the_people_talking_around_them():
    note, (start, end) = cafe_note()
    speech = find_speech(note)
    # The detector hears the crowd as speech too: most of the note, before and after the speaker.
    assert speech.within(0, start) > 0.8 and speech.within(end, len(note)) > 0.8
    heard = main_voice(note, speech, 20.0)
    margin = int(0.3 * SR)
    assert (
        heard.spans and heard.spans[0][0] >= start - margin and heard.spans[-1][1] <= end + margin
    )
    assert heard.within(start, end) > 0.8 * (end - start) / SR
    # Off (0 dB), and for a note of the speaker alone, it is the detector's speech unchanged.
    assert main_voice(note, speech, 0.0) == speech
    alone = spoken_samples(3.0, seed=1)
    alone_speech = find_speech(alone)
    assert main_voice(alone, alone_speech, 20.0).seconds > 0.8 * alone_speech.seconds


def test_a_quiet_speaker_alone_is_still_heard_whole():
    quiet = spoken_samples(3.0, seed=2) * np.float32(0.02)  # -34 dB: a phone held far away
    speech = find_speech(quiet)
    assert speech.seconds > 1.5
    assert main_voice(quiet, speech, 20.0).seconds > 0.8 * speech.seconds


async def test_the_analyser_pools_the_main_voice_only_and_counts_all_the_speech():
    note, (start, end) = cafe_note()
    gated, model = await _analyse(note)
    everyone, all_voices = await _analyse(note, main_voice_db=0.0)
    heard, everything = sum(map(len, model.heard)), sum(map(len, all_voices.heard))
    assert heard < (end - start) + int(0.8 * SR) and everything > len(note) - int(0.8 * SR)
    # The answer still reports the speech the detector found, the crowd's included.
    assert gated.speech_s == everyone.speech_s


def test_a_quiet_sentence_after_a_loud_one_is_still_the_main_voice():
    loud = spoken_samples(5.0, seed=1)
    quiet = spoken_samples(5.0, seed=2) * np.float32(10 ** (-18 / 20))  # the same person, softer
    note = np.concatenate([loud, quiet])
    speech = find_speech(note)
    heard = main_voice(note, speech, 12.0)
    # Past the reach of the loud sentence the quiet one is measured against itself.
    reach = int(2.6 * SR)
    assert heard.within(len(loud) + reach, len(note)) > 0.8 * speech.within(
        len(loud) + reach, len(note)
    )
