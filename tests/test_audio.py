"""Decoding real encoded files with the real ffmpeg: formats, limits, broken input, time limits."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import struct
import tempfile
import threading
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from inference.audio import (
    SILENT_PEAK,
    Audio,
    DecodeLimits,
    FFmpegNotFound,
    configure_pydub,
    decode,
    decode_async,
    find_ffmpeg,
)
from inference.errors import (
    AudioError,
    EmptyAudio,
    NoAudioStream,
    SilentAudio,
    TooLarge,
    TooLong,
    TooShort,
    UndecodableAudio,
)
from tests.audio_factory import speechlike, video_note, write_wav

FORMATS = ["voice.ogg", "song.mp3", "memo.m4a", "take.wav", "take.flac", "clip.webm", "round.mp4"]


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_decodes_to_16k_mono_float32_of_the_right_length(make_audio, name):
    audio = decode(make_audio(name, 3.0))
    assert audio.sample_rate == 16_000
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.duration_s == pytest.approx(3.0, abs=0.1)
    assert np.max(np.abs(audio.samples)) > 0.05


@pytest.mark.parametrize("name", FORMATS)
async def test_bytes_path_and_async_decoding_give_the_same_samples(make_audio, name):
    path = make_audio(name, 2.0)
    data = path.read_bytes()
    reference = decode(path).samples
    for other in (decode(data), await decode_async(path), await decode_async(data)):
        np.testing.assert_array_equal(other.samples, reference)


def test_48k_stereo_wav_becomes_16k_mono(tmp_path):
    left = speechlike(2.0, sr=48_000)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), 48_000, subtype="PCM_16")
    audio = decode(path)
    assert audio.samples.ndim == 1 and len(audio.samples) == 32_000
    expected = librosa.resample(left, orig_sr=48_000, target_sr=16_000)
    assert np.corrcoef(audio.samples, expected[: len(audio.samples)])[0, 1] > 0.99


def test_a_real_ravdess_recording_decodes_with_its_listed_duration(shared_data, ravdess_rows):
    row = ravdess_rows[0]
    audio = decode(shared_data / "ravdess" / row["path"])
    assert audio.duration_s == pytest.approx(float(row["duration_s"]), abs=0.002)
    assert np.max(np.abs(audio.samples)) > SILENT_PEAK


def test_empty_bytes_and_empty_files_raise_empty_audio(tmp_path):
    empty = tmp_path / "nothing.ogg"
    empty.touch()
    for source in (b"", empty):
        with pytest.raises(EmptyAudio) as caught:
            decode(source)
        _assert_polite(caught.value, "empty")


@pytest.mark.parametrize("cut", [10, 100])
def test_opus_cut_inside_its_headers_raises_undecodable(make_audio, cut):
    data = make_audio("voice.ogg", 3.0).read_bytes()[:cut]
    with pytest.raises(UndecodableAudio) as caught:
        decode(data)
    _assert_polite(caught.value, "undecodable")


def test_opus_cut_in_half_keeps_only_the_complete_pages_before_the_cut(make_audio):
    data = make_audio("voice.ogg", 3.0).read_bytes()
    audio = decode(data[: len(data) // 2])
    # Ogg pages hold about a second of Opus each; ffmpeg salvages the whole pages before the cut.
    assert 0.5 < audio.duration_s < 2.0
    assert np.isfinite(audio.samples).all() and np.max(np.abs(audio.samples)) > 0.05


def test_m4a_cut_before_its_index_raises_undecodable(make_audio):
    data = make_audio("memo.m4a", 3.0).read_bytes()
    with pytest.raises(UndecodableAudio):
        decode(data[: len(data) // 2])


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (16, 16), "blue").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(_png, id="png"),
        pytest.param(lambda: b"Hello, this is a text file and not audio at all.\n" * 40, id="text"),
        pytest.param(lambda: np.random.default_rng(0).bytes(50_000), id="random"),
    ],
)
def test_non_audio_renamed_ogg_raises_undecodable(tmp_path, content):
    path = tmp_path / "voice.ogg"
    path.write_bytes(content())
    for source in (path, path.read_bytes()):
        with pytest.raises(UndecodableAudio) as caught:
            decode(source)
        _assert_polite(caught.value, "undecodable")


def test_a_concat_list_renamed_ogg_is_refused_rather_than_followed(make_audio, tmp_path):
    make_audio("other_users_note.wav", 2.0)
    listing = tmp_path / "voice.ogg"
    listing.write_text("ffconcat version 1.0\nfile other_users_note.wav\n")
    with pytest.raises(UndecodableAudio):
        decode(listing)


def test_a_relative_file_name_with_a_colon_is_read_as_a_file(make_audio, monkeypatch):
    path = make_audio("voice.ogg", 1.0)
    path.rename(path.with_name("cache:voice.ogg"))
    monkeypatch.chdir(path.parent)
    assert decode("cache:voice.ogg").duration_s == pytest.approx(1.0, abs=0.1)


def test_video_without_a_sound_track_raises_no_audio_stream(ffmpeg, tmp_path):
    path = video_note(ffmpeg, None, tmp_path / "silent_film.mp4")
    for source in (path, path.read_bytes()):
        with pytest.raises(NoAudioStream) as caught:
            decode(source)
        _assert_polite(caught.value, "no_audio")


def test_all_zero_wav_raises_silent_audio(make_audio):
    with pytest.raises(SilentAudio) as caught:
        decode(make_audio("zero.wav", samples=np.zeros(48_000, np.float32)))
    _assert_polite(caught.value, "silent")


def test_a_hum_below_minus_50_dbfs_raises_silent_audio(make_audio):
    t = np.arange(48_000) / 16_000
    hum = (10 ** (-52 / 20) * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    with pytest.raises(SilentAudio):
        decode(make_audio("fridge.wav", samples=hum))


def test_a_noise_floor_with_a_few_knocks_raises_silent_audio(make_audio):
    """Loud enough to peak above -50 dBFS, but with essentially no energy: a pocket recording."""
    pocket = (10 ** (-75 / 20) * np.random.default_rng(0).standard_normal(48_000)).astype(
        np.float32
    )
    pocket[[5_000, 20_000, 40_000]] = 0.1
    with pytest.raises(SilentAudio):
        decode(make_audio("pocket.wav", samples=pocket))


def test_quiet_speech_is_not_mistaken_for_silence(make_audio):
    speech = speechlike(3.0)
    quiet = (speech * 10 ** (-35 / 20) / np.max(np.abs(speech))).astype(np.float32)
    assert decode(make_audio("quiet.wav", samples=quiet)).duration_s == pytest.approx(3.0)


def test_nan_and_inf_samples_do_not_leak_out(tmp_path):
    samples = speechlike(2.0)
    samples[100:200] = np.nan
    samples[300], samples[400] = np.inf, -np.inf
    path = tmp_path / "broken_float.wav"
    sf.write(path, samples, 16_000, subtype="FLOAT")
    audio = decode(path)
    assert np.isfinite(audio.samples).all() and np.max(np.abs(audio.samples)) <= 1.0
    assert audio.duration_s == pytest.approx(2.0)


def test_a_tenth_of_a_second_raises_too_short(make_audio):
    with pytest.raises(TooShort) as caught:
        decode(make_audio("blip.ogg", 0.1))
    _assert_polite(caught.value, "too_short")
    assert caught.value.params["limit_s"] == 0.3


def test_over_max_bytes_raises_too_large_before_running_ffmpeg(make_audio):
    path = make_audio("voice.ogg", 3.0)
    limits = DecodeLimits(max_bytes=1000)
    # A binary that does not exist proves the size is checked before anything is spawned.
    for source in (path, path.read_bytes()):
        with pytest.raises(TooLarge) as caught:
            decode(source, limits, ffmpeg="/nonexistent/ffmpeg")
        _assert_polite(caught.value, "too_large")
        assert caught.value.params["limit_mb"] == pytest.approx(1000 / 2**20)


def test_too_large_names_the_default_limit_in_mb():
    with pytest.raises(TooLarge) as caught:
        decode(bytes(20 * 1024 * 1024 + 1))
    assert "20 MB" in str(caught.value) and caught.value.params["limit_mb"] == 20


def test_over_max_duration_raises_too_long(make_audio):
    with pytest.raises(TooLong) as caught:
        decode(make_audio("ramble.ogg", 3.0), DecodeLimits(max_duration_s=1.0))
    _assert_polite(caught.value, "too_long")
    assert caught.value.params["limit_s"] == 1.0


def test_an_endless_stream_stops_at_the_duration_limit(tmp_path):
    """Output is cut one second past the limit, so even a never-ending input ends in TooLong."""
    fifo = _fifo(tmp_path)
    writer = threading.Thread(target=_write_endless_wav, args=(fifo,), daemon=True)
    writer.start()
    try:
        with pytest.raises(TooLong) as caught:
            decode(fifo, DecodeLimits(max_duration_s=120.0, timeout_s=20.0))
    finally:
        _release_writer(fifo, writer)
    assert "2 minutes" in str(caught.value) and caught.value.params["limit_s"] == 120.0


def test_decoding_past_the_time_limit_kills_ffmpeg_and_raises_undecodable(tmp_path):
    fifo = _fifo(tmp_path)  # nobody ever writes: ffmpeg waits forever
    with pytest.raises(UndecodableAudio) as caught:
        decode(fifo, DecodeLimits(timeout_s=0.5))
    _assert_polite(caught.value, "undecodable")
    assert "too long" in str(caught.value) and caught.value.params["timeout_s"] == 0.5
    assert not _has_reader(fifo)


async def test_async_decoding_past_the_time_limit_kills_ffmpeg(tmp_path):
    fifo = _fifo(tmp_path)
    with pytest.raises(UndecodableAudio, match="too long"):
        await decode_async(fifo, DecodeLimits(timeout_s=0.5))
    assert not _has_reader(fifo)


async def test_cancelling_async_decoding_kills_ffmpeg(tmp_path):
    fifo = _fifo(tmp_path)
    task = asyncio.create_task(decode_async(fifo))
    writer = await _wait_for_reader(fifo)  # ffmpeg has the fifo open and waits for data
    try:
        assert not task.done()  # the loop kept running while ffmpeg worked
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not _has_reader(fifo)
    finally:
        os.close(writer)


def test_decoding_bytes_leaves_no_open_files(make_audio):
    data = make_audio("voice.ogg", 1.0).read_bytes()
    before = set(os.listdir("/proc/self/fd"))
    decode(data)
    with pytest.raises(UndecodableAudio):
        decode(data[:10])
    assert set(os.listdir("/proc/self/fd")) == before


def test_without_memfd_bytes_go_through_a_temp_file_that_is_removed(
    make_audio, tmp_path, monkeypatch
):
    data = make_audio("voice.ogg", 1.0).read_bytes()
    expected = decode(data).samples
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.delattr(os, "memfd_create")
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    np.testing.assert_array_equal(decode(data).samples, expected)
    with pytest.raises(UndecodableAudio):
        decode(data[:10])
    assert list(spool.iterdir()) == []


def test_audio_reports_its_duration():
    assert Audio(np.zeros(24_000, np.float32)).duration_s == 1.5


@pytest.fixture
def fresh_ffmpeg_cache():
    find_ffmpeg.cache_clear()
    yield
    find_ffmpeg.cache_clear()


def test_find_ffmpeg_prefers_ffmpeg_on_path(ffmpeg, tmp_path, monkeypatch, fresh_ffmpeg_cache):
    (tmp_path / "ffmpeg").symlink_to(ffmpeg)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_ffmpeg() == str(tmp_path / "ffmpeg")


def test_find_ffmpeg_falls_back_to_imageio_ffmpeg(tmp_path, monkeypatch, fresh_ffmpeg_cache):
    import imageio_ffmpeg

    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_ffmpeg() == imageio_ffmpeg.get_ffmpeg_exe()
    assert decode(write_wav(tmp_path / "x.wav", speechlike(1.0))).duration_s == 1.0


def test_find_ffmpeg_remembers_its_answer(ffmpeg, tmp_path, monkeypatch, fresh_ffmpeg_cache):
    first = find_ffmpeg()
    (tmp_path / "ffmpeg").symlink_to(ffmpeg)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_ffmpeg() == first


def test_find_ffmpeg_uses_an_explicit_path(ffmpeg, fresh_ffmpeg_cache):
    assert find_ffmpeg(ffmpeg) == ffmpeg


def test_a_missing_explicit_ffmpeg_names_the_setting(fresh_ffmpeg_cache):
    with pytest.raises(FFmpegNotFound, match="VOICEMOOD_FFMPEG"):
        find_ffmpeg("/nonexistent/ffmpeg")


def test_configure_pydub_makes_pydub_encode_with_the_same_ffmpeg(ffmpeg, tmp_path, monkeypatch):
    from pydub import AudioSegment

    monkeypatch.setattr(AudioSegment, "converter", "/nonexistent/ffmpeg")  # restored afterwards
    configure_pydub(ffmpeg)
    pcm = (speechlike(2.0) * 32767).astype("<i2").tobytes()
    segment = AudioSegment(pcm, sample_width=2, frame_rate=16_000, channels=1)
    out = tmp_path / "round_trip.ogg"
    segment.export(out, format="ogg", codec="libopus")
    assert decode(out).duration_s == pytest.approx(2.0, abs=0.1)


def _assert_polite(error: AudioError, code: str) -> None:
    """A user-facing sentence (or two) in plain English, with a stable code for renderers."""
    text = str(error)
    assert error.code == code
    assert text[0].isupper() and text.endswith(".") and len(text.split()) >= 6
    assert "ffmpeg" not in text.lower()


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "stream.wav"
    os.mkfifo(path)
    return path


def _has_reader(fifo: Path) -> bool:
    """Whether some process (ffmpeg) has the fifo open for reading."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as error:
        assert error.errno == errno.ENXIO
        return False
    return True


async def _wait_for_reader(fifo: Path) -> int:
    for _ in range(1000):
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            await asyncio.sleep(0.01)
    raise AssertionError("ffmpeg never opened the fifo")


def _write_endless_wav(fifo: Path) -> None:
    """A 16 kHz wav stream whose header claims the maximum size and whose data never ends."""
    header = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16_000, 32_000, 2, 16)
    header += b"data" + struct.pack("<I", 0xFFFFFFFF)
    second = (speechlike(1.0) * 32767).astype("<i2").tobytes()
    try:
        with open(fifo, "wb") as stream:
            stream.write(header)
            while True:
                stream.write(second)
    except BrokenPipeError:  # ffmpeg stopped reading: the point of the test
        pass


def _release_writer(fifo: Path, writer: threading.Thread) -> None:
    """Unblock the writer if ffmpeg never opened the fifo, then wait for it."""
    if writer.is_alive():
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    writer.join(timeout=10)
