"""A corpus of hostile and odd inputs, generated here, each with the answer it must get.

Run `python -m tests.corpus.make_corpus OUT` to write it to OUT and print one line per case.
The expectations assume the corpus limits (LIMITS: 1 MB, 30 s, 0.3 s), as tests/test_corpus.py
sets them. Where the right answer is a decision, the maker's comment says why:

- A cut Opus/MP3 keeps what ffmpeg salvages: cut past the audio's start it is the first part
  of the note (an answer, as a person would still hear it); cut inside the headers it is nothing.
- A file is judged by its content, not its name: MP3 bytes named .ogg are answered.
- A header's declared length is not trusted: what decodes is what counts.
- Opposite-phase stereo cancels when mixed to mono, as it would on a mono speaker: silent.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.audio_factory import encode, speechlike, video_note, write_wav

SR = 16_000
MAX_FILE_MB = 1.0
MAX_DURATION_S = 30.0
MAX_BYTES = int(MAX_FILE_MB * 1024 * 1024)
# The settings the expectations are written for (VOICEMOOD_* names).
LIMITS = {"VOICEMOOD_MAX_FILE_MB": "1", "VOICEMOOD_MAX_DURATION_S": "30"}


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expect: str  # an inference.errors code, or "answer"


@dataclass(frozen=True)
class _Maker:
    name: str
    file_name: str | bytes  # bytes: a name that is not UTF-8
    expect: str
    make: Callable[[Path, str], None]


_MAKERS: list[_Maker] = []


def build_corpus(out_dir: Path, ffmpeg: str) -> list[Case]:
    """Write every case's file into `out_dir` (created if missing) and return the cases."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = []
    for maker in _MAKERS:
        path = out_dir / os.fsdecode(maker.file_name)  # surrogateescape keeps non-UTF-8 bytes
        maker.make(path, ffmpeg)
        cases.append(Case(maker.name, path, maker.expect))
    return cases


def _case(name: str, expect: str, file_name: str | bytes | None = None) -> Callable:
    def register(make: Callable[[Path, str], None]) -> Callable[[Path, str], None]:
        _MAKERS.append(_Maker(name, file_name or f"{name}.ogg", expect, make))
        return make

    return register


# Helpers


def _speech(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    return speechlike(seconds, seed=seed)


def _ogg(ffmpeg: str, seconds: float = 3.0) -> bytes:
    """A real Telegram-style Opus voice note, as bytes."""
    return _encoded(ffmpeg, _speech(seconds), "ogg")


def _encoded(ffmpeg: str, samples: np.ndarray, kind: str, sr: int = SR) -> bytes:
    with tempfile.TemporaryDirectory(prefix="corpus-") as folder:
        return encode(ffmpeg, samples, Path(folder) / f"x.{kind}", sr).read_bytes()


def _ogg_pages(data: bytes) -> list[int]:
    """Byte offsets where each Ogg page starts."""
    offsets, at = [], data.find(b"OggS")
    while at != -1:
        offsets.append(at)
        at = data.find(b"OggS", at + 4)
    return offsets


def _wav_header(
    data_bytes: int, *, sr: int, channels: int = 1, bits: int = 16, fmt: int = 1
) -> bytes:
    """A RIFF/WAVE header whose sizes say whatever `data_bytes` claims (clamped to 32 bits)."""
    block = channels * bits // 8
    riff = min(36 + data_bytes, 0xFFFFFFFF)
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, fmt, channels, sr, sr * block, block, bits)
        + b"data"
        + struct.pack("<I", min(data_bytes, 0xFFFFFFFF))
    )


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


# Empty, tiny and not audio at all


@_case("empty_file", "empty")
def _empty(path: Path, ffmpeg: str) -> None:
    path.write_bytes(b"")


@_case("one_byte", "undecodable")
def _one_byte(path: Path, ffmpeg: str) -> None:
    path.write_bytes(b"\x00")


@_case("one_sample_wav", "too_short", "one_sample.wav")
def _one_sample(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_wav_header(2, sr=SR) + _pcm16(np.array([0.5])))


@_case("png_named_ogg", "undecodable")
def _png(path: Path, ffmpeg: str) -> None:
    # Image demuxers are not on decode's whitelist, so a picture is "not audio", not a crash.
    png = path.with_suffix(".tmp.png")
    _run(
        [ffmpeg, "-y", "-f", "lavfi", "-i", "color=c=red:s=32x32:d=0.1", "-frames:v", "1", str(png)]
    )
    path.write_bytes(png.read_bytes())
    png.unlink()


@_case("pdf_named_ogg", "undecodable")
def _pdf(path: Path, ffmpeg: str) -> None:
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


@_case("zip_named_ogg", "undecodable")
def _zip(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_zipped(_ogg(ffmpeg, 1.0), zipfile.ZIP_DEFLATED))


@_case("stored_zip_holding_a_voice_note", "undecodable", "archive.zip")
def _stored_zip(path: Path, ffmpeg: str) -> None:
    # An uncompressed zip holds the note's bytes verbatim. Probed by content it is no Ogg file;
    # named *.ogg on disk, ffmpeg's name-based probing would find the pages (see the report).
    path.write_bytes(_zipped(_ogg(ffmpeg, 1.0), zipfile.ZIP_STORED))


def _zipped(data: bytes, method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr("voice.ogg", data)
    return buffer.getvalue()


@_case("text_named_ogg", "undecodable")
def _text(path: Path, ffmpeg: str) -> None:
    path.write_text("Hello! This is a voice note, honest.\n" * 20)


@_case("hls_playlist_named_ogg", "undecodable")
def _hls(path: Path, ffmpeg: str) -> None:
    # A playlist would make ffmpeg open other files; the demuxer whitelist refuses it.
    path.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n")


@_case("ffconcat_list_named_ogg", "undecodable")
def _concat(path: Path, ffmpeg: str) -> None:
    path.write_text("ffconcat version 1.0\nfile '/etc/passwd'\n")


@_case("random_bytes_with_ogg_magic", "undecodable")
def _random_ogg(path: Path, ffmpeg: str) -> None:
    path.write_bytes(b"OggS" + np.random.default_rng(1).bytes(4000))


# Opus cut short or corrupted


def _truncated(fraction: float | None, *, offset: int | None = None) -> Callable[[Path, str], None]:
    def make(path: Path, ffmpeg: str) -> None:
        # 5 s: ffmpeg writes a page a second, and half of the file must still hold more than
        # VOICEMOOD_MIN_SPEECH_S of speech (half of a 3 s note decodes to 0.99 s).
        data = _ogg(ffmpeg, 5.0)
        cut = offset if offset is not None else int(len(data) * (fraction or 0))
        path.write_bytes(data[:cut])

    return make


_case("opus_cut_at_4_bytes", "undecodable")(_truncated(None, offset=4))
_case("opus_cut_at_40_bytes", "undecodable")(_truncated(None, offset=40))
_case("opus_cut_at_half", "answer")(_truncated(0.5))
_case("opus_cut_at_90_percent", "answer")(_truncated(0.9))


@_case("opus_cut_after_headers", "undecodable")
def _headers_only(path: Path, ffmpeg: str) -> None:
    # OpusHead and OpusTags pages, then nothing: a valid stream with no sound in it.
    data = _ogg(ffmpeg, 3.0)
    path.write_bytes(data[: _ogg_pages(data)[2]])


@_case("opus_cut_mid_first_audio_page", "undecodable")
def _mid_first_page(path: Path, ffmpeg: str) -> None:
    # A page is only used whole, so not one audio packet survives: nothing to decode.
    data = _ogg(ffmpeg, 3.0)
    pages = _ogg_pages(data)
    path.write_bytes(data[: pages[2] + 200])


@_case("ogg_bad_checksum_on_audio_page", "answer")
def _bad_crc_audio(path: Path, ffmpeg: str) -> None:
    # One bad page in the middle is skipped; the rest of the note is still there to hear.
    data = bytearray(_ogg(ffmpeg, 3.0))
    page = _ogg_pages(bytes(data))[3]
    data[page + 22] ^= 0xFF
    path.write_bytes(bytes(data))


@_case("ogg_bad_checksum_on_header_page", "undecodable")
def _bad_crc_head(path: Path, ffmpeg: str) -> None:
    data = bytearray(_ogg(ffmpeg, 3.0))
    data[22] ^= 0xFF
    path.write_bytes(bytes(data))


@_case("ogg_no_audio_packets", "undecodable")
def _zero_length_stream(path: Path, ffmpeg: str) -> None:
    # An Opus stream of zero duration: headers, then the end-of-stream page.
    _run(
        [ffmpeg, "-y", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "0",
         "-c:a", "libopus", "-f", "ogg", str(path)]
    )  # fmt: skip


@_case("mp3_claiming_to_be_opus", "answer")
def _mp3_as_ogg(path: Path, ffmpeg: str) -> None:
    # Judged by content, not by name: an .ogg that is really MP3 is still a recording.
    path.write_bytes(_encoded(ffmpeg, _speech(2.0), "mp3"))


@_case("mp3_cut_at_half", "answer", "cut.mp3")
def _mp3_half(path: Path, ffmpeg: str) -> None:
    data = _encoded(ffmpeg, _speech(3.0), "mp3")
    path.write_bytes(data[: len(data) // 2])


@_case("m4a_without_moov_atom", "undecodable", "no_moov.m4a")
def _no_moov(path: Path, ffmpeg: str) -> None:
    # ffmpeg writes the index (moov) last; a phone upload cut before it has no index at all.
    data = _encoded(ffmpeg, _speech(2.0), "m4a")
    path.write_bytes(data[: data.rfind(b"moov") - 4])


# Valid recordings in odd shapes


@_case("opus_voice_note", "answer")
def _voice(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_ogg(ffmpeg, 2.0))


@_case("browser_webm_opus", "answer", "browser.webm")
def _webm(path: Path, ffmpeg: str) -> None:
    encode(ffmpeg, _speech(2.0), path)


@_case("ogg_vorbis", "answer")
def _vorbis(path: Path, ffmpeg: str) -> None:
    wav = write_wav(path.with_suffix(".src.wav"), _speech(2.0))
    _run([ffmpeg, "-y", "-i", str(wav), "-c:a", "libvorbis", "-q:a", "0", str(path)])
    wav.unlink()


@_case("raw_adts_aac", "answer", "voice.aac")
def _adts(path: Path, ffmpeg: str) -> None:
    wav = write_wav(path.with_suffix(".src.wav"), _speech(2.0))
    _run([ffmpeg, "-y", "-i", str(wav), "-c:a", "aac", "-b:a", "48k", "-f", "adts", str(path)])
    wav.unlink()


@_case("video_note_with_sound", "answer", "round.mp4")
def _video_with_sound(path: Path, ffmpeg: str) -> None:
    video_note(ffmpeg, _speech(2.0), path)


@_case("video_without_audio_track", "no_audio", "silent_film.mp4")
def _video_only(path: Path, ffmpeg: str) -> None:
    video_note(ffmpeg, None, path)


@_case("digital_clipping", "answer", "clipped.wav")
def _clipping(path: Path, ffmpeg: str) -> None:
    write_wav(path, np.clip(_speech(2.0) * 20, -1, 1))


@_case("dc_offset", "answer", "dc_offset.wav")
def _dc(path: Path, ffmpeg: str) -> None:
    write_wav(path, _speech(2.0) + 0.4)


@_case("stereo_8khz", "answer", "stereo_8k.wav")
def _stereo_8k(path: Path, ffmpeg: str) -> None:
    mono = speechlike(2.0, sr=8000)
    sf.write(path, np.stack([mono, mono * 0.5], axis=1), 8000, subtype="PCM_16")


@_case("sample_rate_192khz", "answer", "hires.wav")
def _hires(path: Path, ffmpeg: str) -> None:
    sf.write(path, speechlike(1.5, sr=192_000), 192_000, subtype="PCM_24")


@_case("eight_channels", "answer", "surround.wav")
def _surround(path: Path, ffmpeg: str) -> None:
    mono = speechlike(1.5, sr=8000)
    sf.write(path, np.tile(mono[:, None], (1, 8)) * 0.3, 8000, subtype="PCM_16")


@_case("speech_in_left_channel_only", "answer", "left_only.wav")
def _left_only(path: Path, ffmpeg: str) -> None:
    mono = _speech(2.0)
    sf.write(path, np.stack([mono, np.zeros_like(mono)], axis=1), SR, subtype="PCM_16")


@_case("opposite_phase_stereo", "silent", "phase.wav")
def _phase(path: Path, ffmpeg: str) -> None:
    # Mixed to mono, L + (-L) is nothing: the same as a mono speaker would play.
    mono = _speech(2.0)
    sf.write(path, np.stack([mono, -mono], axis=1), SR, subtype="PCM_16")


@_case("float_wav_with_some_nan", "answer", "some_nan.wav")
def _some_nan(path: Path, ffmpeg: str) -> None:
    samples = _speech(2.0)
    samples[::50] = np.nan
    samples[1::97] = np.inf
    sf.write(path, samples, SR, subtype="FLOAT")


@_case("float_wav_all_nan", "silent", "all_nan.wav")
def _all_nan(path: Path, ffmpeg: str) -> None:
    path.write_bytes(
        _wav_header(SR * 4, sr=SR, bits=32, fmt=3) + np.full(SR, np.nan, "<f4").tobytes()
    )


@_case("float_wav_far_past_full_scale", "answer", "loud_float.wav")
def _past_full_scale(path: Path, ffmpeg: str) -> None:
    sf.write(path, _speech(2.0) * 1000, SR, subtype="FLOAT")


@_case("flac", "answer", "voice.flac")
def _flac(path: Path, ffmpeg: str) -> None:
    encode(ffmpeg, _speech(2.0), path)


# Quiet and short


@_case("digital_silence", "silent")
def _silence(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_encoded(ffmpeg, np.zeros(2 * SR, np.float32), "ogg"))


@_case("whisper_at_minus_75_dbfs", "silent", "faint.wav")
def _faint(path: Path, ffmpeg: str) -> None:
    sf.write(path, _speech(2.0) / 0.3 * 10 ** (-75 / 20), SR, subtype="FLOAT")


@_case("opus_0_1_seconds", "too_short")
def _tiny_opus(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_encoded(ffmpeg, _speech(0.1), "ogg"))


# Limits and lying headers


@_case("wav_just_over_size_limit", "too_large", "big.wav")
def _just_too_big(path: Path, ffmpeg: str) -> None:
    frames = (MAX_BYTES + 1 - 44) // 2 + 1
    samples = np.resize(speechlike(2.0, sr=8000), frames)
    path.write_bytes(_wav_header(frames * 2, sr=8000) + _pcm16(samples))
    assert path.stat().st_size > MAX_BYTES


@_case("opus_just_over_duration_limit", "too_long")
def _just_too_long(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_encoded(ffmpeg, _speech(MAX_DURATION_S + 0.6), "ogg"))


@_case("opus_just_under_duration_limit", "answer")
def _just_long_enough(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_encoded(ffmpeg, _speech(MAX_DURATION_S - 1.0), "ogg"))


@_case("opus_three_hours", "too_large")
def _three_hours(path: Path, ffmpeg: str) -> None:
    # Really 3 h of sound, made cheaply: one minute of low-bitrate Opus, copied 180 times
    # (~6 MB, so the size limit refuses it before ffmpeg even starts).
    minute = path.with_suffix(".minute.ogg")
    _run(
        [ffmpeg, "-y", "-f", "lavfi", "-i", "sine=f=220:r=8000", "-t", "60",
         "-c:a", "libopus", "-b:a", "6k", "-frame_duration", "120", str(minute)]
    )  # fmt: skip
    _run([ffmpeg, "-y", "-stream_loop", "179", "-i", str(minute), "-c", "copy", str(path)])
    minute.unlink()


@_case("wav_header_claims_three_hours_holds_40_s", "too_long", "claims_3h_40s.wav")
def _claims_3h_long(path: Path, ffmpeg: str) -> None:
    samples = np.resize(speechlike(4.0, sr=8000), 40 * 8000)
    header = _wav_header(3 * 3600 * 8000, sr=8000, bits=8)
    path.write_bytes(header + ((samples * 127) + 128).astype(np.uint8).tobytes())


@_case("wav_header_claims_three_hours_holds_2_s", "answer", "claims_3h_2s.wav")
def _claims_3h_short(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_wav_header(3 * 3600 * SR * 2, sr=SR) + _pcm16(_speech(2.0)))


@_case("wav_header_claims_4_gb_holds_100_bytes", "too_short", "claims_4gb.wav")
def _claims_huge(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_wav_header(0xFFFFFFF0, sr=SR) + _pcm16(_speech(100 / 2 / SR)))


@_case("wav_header_claims_absurd_sample_rate", "undecodable", "absurd_rate.wav")
def _absurd_rate(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_wav_header(SR * 2, sr=0) + _pcm16(_speech(1.0)))


# Names


@_case("non_utf8_file_name", "answer", b"voix-\xff\xfe-\xe9t\xe9.ogg")
def _latin1_name(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_ogg(ffmpeg, 2.0))


@_case("file_name_255_bytes", "answer", "n" * 251 + ".ogg")
def _long_name(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_ogg(ffmpeg, 2.0))


@_case("file_name_looks_like_a_url", "answer", "http:__evil.example_x.ogg")
def _url_name(path: Path, ffmpeg: str) -> None:
    path.write_bytes(_ogg(ffmpeg, 2.0))


CASE_NAMES: tuple[str, ...] = tuple(maker.name for maker in _MAKERS)


def main(argv: list[str]) -> int:
    """`python -m tests.corpus.make_corpus OUT`: write the corpus and list it."""
    from inference.audio import find_ffmpeg

    if len(argv) != 1:
        print("usage: python -m tests.corpus.make_corpus OUT", file=sys.stderr)
        return 2
    for case in build_corpus(Path(argv[0]), find_ffmpeg()):
        print(f"{case.expect:12} {case.name:45} {os.fsencode(case.path.name)[:60]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
