import numpy as np
import pytest

from inference.analysis import AnalysisConfig, Analyzer, split_windows
from inference.audio import Audio
from inference.models.hf import HFAudioClassifier
from inference.worker import InferenceWorker, WorkerConfig
from tests.audio_factory import speechlike


def _audio(seconds: float) -> Audio:
    return Audio(speechlike(seconds))


def test_a_short_note_is_one_window():
    assert split_windows(_audio(5.0), 4.0) == [(0, 80_000)]


def test_a_long_note_is_cut_into_equal_windows_covering_the_end():
    windows = split_windows(_audio(14.0), 4.0)
    assert {b - a for a, b in windows} == {64_000}
    assert windows[0][0] == 0 and windows[-1][1] == 14 * 16_000
    assert len(windows) == 4  # 0-4, 4-8, 8-12, and 10-14 for the 2 s tail


def test_a_short_tail_is_not_given_its_own_window():
    windows = split_windows(_audio(13.0), 4.0)
    assert windows[-1] == (8 * 16_000, 12 * 16_000)


def test_silent_windows_are_left_out():
    samples = np.concatenate([speechlike(4.0), np.zeros(64_000, np.float32), speechlike(4.0)])
    windows = split_windows(Audio(samples), 4.0)
    assert windows == [(0, 64_000), (128_000, 192_000)]


@pytest.fixture
async def analyzer(tiny_hubert_dir):
    worker = InferenceWorker(HFAudioClassifier.load(str(tiny_hubert_dir)), WorkerConfig())
    async with worker:
        yield Analyzer(worker, AnalysisConfig(window_s=4.0, not_sure_below=0.5))


async def test_a_voice_note_becomes_an_answer_over_the_models_canonical_labels(
    analyzer, make_audio
):
    prediction = await analyzer.analyse(make_audio("note.ogg", 3.0))
    assert set(prediction.probabilities) == {"neutral", "happy", "sad", "angry"}
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
    assert prediction.label == max(prediction.probabilities, key=prediction.probabilities.get)
    assert prediction.duration_s == pytest.approx(3.0, abs=0.1)
    assert prediction.timeline == []
    # A random tiny model is unsure: the answer must say so rather than claim a tone.
    assert prediction.not_sure == (prediction.confidence < 0.5)


async def test_a_long_note_keeps_a_timeline_that_covers_it(analyzer, make_audio):
    prediction = await analyzer.analyse(make_audio("long.ogg", 14.0, seed=3, spoken=True))
    assert prediction.timeline
    assert prediction.timeline[0].start_s == 0.0
    assert prediction.timeline[-1].end_s == pytest.approx(14.0, abs=0.1)
    for before, after in zip(prediction.timeline, prediction.timeline[1:], strict=False):
        assert before.end_s <= after.start_s + 1e-6
        assert before.label != after.label or before.end_s < after.start_s


class ToneModel:
    """A deterministic EmotionModel: a window's dominant pitch picks its probabilities.

    200 Hz sounds clearly neutral, 400 Hz clearly angry, 300 Hz is a noisy window leaning angry,
    and 500 Hz is a stretch the model is unsure of (happy at 45 %).
    """

    name = "tones"
    labels: tuple[str, ...] = ("neutral", "happy", "sad", "angry")
    ROWS = {
        200: (0.85, 0.05, 0.05, 0.05),
        300: (0.35, 0.05, 0.05, 0.55),
        400: (0.05, 0.05, 0.05, 0.85),
        500: (0.10, 0.45, 0.30, 0.15),
    }

    def predict(self, batch):
        rows = []
        for wave in batch:
            pitch = np.argmax(np.abs(np.fft.rfft(wave))) * 16_000 / len(wave)
            nearest = min(self.ROWS, key=lambda hz: abs(hz - pitch))
            rows.append(self.ROWS[nearest])
        return np.array(rows, np.float32)


def _tones(*pitches: int, window_s: float = 4.0) -> np.ndarray:
    t = np.arange(int(window_s * 16_000)) / 16_000
    return np.concatenate([0.3 * np.sin(2 * np.pi * hz * t) for hz in pitches]).astype(np.float32)


async def _analyse_file(path, **config):
    # Pure tones are not speech: these tests are about the timeline, so the speech gate is off.
    async with InferenceWorker(ToneModel()) as worker:
        settings = AnalysisConfig(window_s=4.0, speech_gate=False, **config)
        return await Analyzer(worker, settings).analyse(path)


async def test_one_noisy_window_does_not_break_a_steady_tone_into_three(make_audio):
    note = make_audio("steady.wav", samples=_tones(200, 200, 300, 200, 200))
    smoothed = await _analyse_file(note)
    unsmoothed = await _analyse_file(note, switch_penalty=0.0)
    assert [(s.label, s.start_s, s.end_s) for s in smoothed.timeline] == [("neutral", 0.0, 20.0)]
    assert [s.label for s in unsmoothed.timeline] == ["neutral", "angry", "neutral"]


async def test_a_tone_that_holds_is_still_reported_as_a_change(make_audio):
    note = make_audio("change.wav", samples=_tones(200, 200, 400, 400, 400))
    prediction = await _analyse_file(note)
    assert [(s.label, s.start_s) for s in prediction.timeline] == [
        ("neutral", 0.0),
        ("angry", 8.0),
    ]


async def test_a_low_confidence_stretch_is_marked_not_sure_in_json_and_worded_as_unsure(
    make_audio,
):
    from bots.replies import render_prediction

    note = make_audio("unsure.wav", samples=_tones(200, 200, 500, 500))
    prediction = await _analyse_file(note, not_sure_below=0.5)
    timeline = prediction.to_json()["timeline"]
    assert [(s["label"], s["not_sure"]) for s in timeline] == [
        ("neutral", False),
        ("happy", True),
    ]
    assert timeline[1]["confidence"] == pytest.approx(0.45)
    english = render_prediction(prediction, "en").splitlines()[
        1
    ]  # the timeline; the cue line follows
    korean = render_prediction(prediction, "ko").splitlines()[1]
    assert "0:08 🤔 maybe happy (not sure)" in english and "😊" not in english
    assert "0:08 🤔 '기쁨'일지도 몰라요 (확실하지 않음)" in korean


def test_the_switch_penalty_is_a_setting_that_reaches_the_analyzer(
    tiny_hubert_dir, monkeypatch, tmp_path
):
    from voicemood.settings import Settings
    from voicemood.wiring import build_analyzer

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOICEMOOD_TIMELINE_SWITCH_PENALTY", "0.25")
    monkeypatch.setenv("VOICEMOOD_MODEL", str(tiny_hubert_dir))
    assert build_analyzer(Settings()).config.switch_penalty == 0.25


async def test_warming_up_loads_the_speech_detector_and_measures_cues_before_any_note(
    analyzer, monkeypatch
):
    import inference.analysis
    import inference.speech

    monkeypatch.setattr(inference.speech, "_loaded", False)
    measured = []
    real_cues_of = inference.analysis.cues_of
    monkeypatch.setattr(
        inference.analysis, "cues_of", lambda s, *a: measured.append(len(s)) or real_cues_of(s, *a)
    )
    await analyzer.warm_up()
    assert inference.speech._loaded
    assert measured == [16_000]
