"""Voice-note augmentations: length and format contracts, that each one really changes the sound,
the asked strength is the measured one, and the training chain repeats under its seed."""

from __future__ import annotations

import numpy as np
import pytest

from data_augment.augment import (
    SAMPLE_RATE,
    NoiseColor,
    VoiceNoteAugmenter,
    VoiceNoteConditions,
    add_noise,
    apply_gain,
    change_tempo,
    opus_round_trip,
    pitch_shift,
    reverberate,
)
from tests.audio_factory import speechlike


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return speechlike(2.0, seed=4)


def _tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _snr_db(clean: np.ndarray, processed: np.ndarray) -> float:
    error = processed.astype(np.float64) - clean
    return float(10 * np.log10(np.sum(clean.astype(np.float64) ** 2) / np.sum(error**2)))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[np.argmax(spectrum)])


def _assert_audio(out: np.ndarray, length: int) -> None:
    assert out.dtype == np.float32
    assert out.shape == (length,)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("length", [32_000, 16_001])
def test_opus_round_trip_returns_the_exact_length_and_a_coded_signal(ffmpeg, speech, length):
    clip = np.resize(speech, length)

    out = opus_round_trip(clip, bitrate_kbps=12, ffmpeg=ffmpeg)

    _assert_audio(out, length)
    # Close to the input (aligned, no delay left by the codec), yet audibly coded.
    assert 0.9 < _correlation(clip, out) < 0.999
    assert _snr_db(clip, out) < 30


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_noise_at_10_db_measures_10_db(speech, color):
    out = add_noise(speech, 10.0, np.random.default_rng(0), color=color)

    _assert_audio(out, len(speech))
    assert _snr_db(speech, out) == pytest.approx(10.0, abs=1.0)


def test_pink_noise_puts_more_power_in_the_low_band_than_white():
    quiet = np.full(SAMPLE_RATE, 1e-3, dtype=np.float32)

    def low_share(color: NoiseColor) -> float:
        noise = add_noise(quiet, -40.0, np.random.default_rng(1), color=color)
        power = np.abs(np.fft.rfft(noise)) ** 2
        freqs = np.fft.rfftfreq(len(noise), 1 / SAMPLE_RATE)
        return float(power[(freqs > 20) & (freqs < 500)].sum() / power.sum())

    assert low_share("pink") > 3 * low_share("white")


def test_a_real_noise_recording_shorter_than_the_clip_is_looped_in_at_the_asked_snr(speech):
    hum = _tone(50.0, seconds=0.3)

    out = add_noise(speech, 5.0, np.random.default_rng(2), noise=hum)

    _assert_audio(out, len(speech))
    assert _snr_db(speech, out) == pytest.approx(5.0, abs=1.0)


def test_reverb_keeps_length_and_loudness_and_rings_on_after_the_sound_stops(speech):
    burst = speech.copy()
    burst[SAMPLE_RATE:] = 0.0  # one second of sound, then silence

    out = reverberate(burst, np.random.default_rng(3), rt60_s=0.5, direct_to_reverb_db=0.0)

    _assert_audio(out, len(burst))
    assert np.sqrt(np.mean(out**2)) == pytest.approx(np.sqrt(np.mean(burst**2)), rel=0.01)
    assert _correlation(burst, out) < 0.999
    tail = out[SAMPLE_RATE : SAMPLE_RATE + SAMPLE_RATE // 10]
    assert np.sqrt(np.mean(tail**2)) > 0.01 * np.sqrt(np.mean(burst[:SAMPLE_RATE] ** 2))


def test_pitch_shift_keeps_length_and_moves_the_pitch_by_the_semitones():
    tone = _tone(200.0)

    out = pitch_shift(tone, 12.0)

    _assert_audio(out, len(tone))
    assert _peak_hz(out) == pytest.approx(400.0, rel=0.03)


def test_tempo_change_shortens_by_the_rate_and_keeps_the_pitch():
    tone = _tone(200.0)

    out = change_tempo(tone, 1.25)

    _assert_audio(out, round(len(tone) / 1.25))
    assert _peak_hz(out) == pytest.approx(200.0, rel=0.03)


def test_gain_scales_the_level_by_the_decibels(speech):
    out = apply_gain(speech, 6.0)

    _assert_audio(out, len(speech))
    assert np.sqrt(np.mean(out**2)) / np.sqrt(np.mean(speech**2)) == pytest.approx(
        10 ** (6 / 20), rel=1e-4
    )


EVERY_STEP = VoiceNoteConditions(
    p_tempo=1.0, p_pitch=1.0, p_gain=1.0, p_reverb=1.0, p_noise=1.0, p_opus=1.0
)
NO_STEP = VoiceNoteConditions(
    p_tempo=0.0, p_pitch=0.0, p_gain=0.0, p_reverb=0.0, p_noise=0.0, p_opus=0.0
)


def test_augmenter_repeats_exactly_under_its_seed_and_differs_under_another(ffmpeg, speech):
    def run(seed: int) -> list[np.ndarray]:
        augment = VoiceNoteAugmenter(seed, EVERY_STEP, ffmpeg=ffmpeg)
        return [augment(speech), augment(speech)]

    first, again, other = run(7), run(7), run(8)

    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], first[1])  # successive calls draw new conditions
    assert not np.array_equal(first[0], other[0])


def test_augmenter_with_every_step_returns_clipped_finite_float32_of_the_tempo_length(
    ffmpeg, speech
):
    out = VoiceNoteAugmenter(1, EVERY_STEP, ffmpeg=ffmpeg)(speech)

    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    assert np.max(np.abs(out)) <= 1.0
    assert len(speech) / 1.1 - 2 <= len(out) <= len(speech) / 0.9 + 2


def test_augmenter_keep_length_pads_or_trims_back_to_the_input_length(ffmpeg, speech):
    out = VoiceNoteAugmenter(2, EVERY_STEP, keep_length=True, ffmpeg=ffmpeg)(speech)

    _assert_audio(out, len(speech))
    assert _correlation(speech, out) < 0.999


def test_augmenter_with_no_step_drawn_returns_the_input(speech):
    out = VoiceNoteAugmenter(3, NO_STEP)(speech)

    assert np.array_equal(out, speech)
