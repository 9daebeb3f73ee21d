"""Where a note is speech: the Silero VAD that faster-whisper's wheel ships, run on onnxruntime.

Loud sounds that are not speech (a song, street noise, applause) pass the silence check, and the
emotion model answered them with confident verdicts (issue 24). Silero is used because it is
already installed with the default encoder (`faster_whisper/assets/silero_vad_v6.onnx`), needs no
download, and tells speech from such sounds cleanly. Measured with the options below
(`python bench/speech.py`): no speech at all in any generated chord, white or pink noise,
applause, sine sweep or music-like clip; speech in all 240 held-out RAVDESS clips (actors 17-20),
100 Korean and 4481 nEMO (Polish) clips, and in 399 of 400 Urdu talk-show clips; speech still
found in the RAVDESS clips under pink noise, music-like tones or four-voice babble at 0 dB SNR
(1 of 720 lost). It costs 14 ms for a 5 s note and 145 ms for 60 s (about 2.5 ms per second of
audio, one thread, on a loaded 2-core machine), so the analyser calls it in a thread.

The options were chosen on those sets (30 clips of each generated sound): the largest speech
probability a non-speech frame reached was 0.44 (music-like), while shouted speech stays low
(actor 18's angry sentences peak at 0.63 and fall to 0.02-0.1 mid-shout). Threshold 0.3 with a
300 ms minimum refuses none of the speech and all of the non-speech; threshold 0.4 found less than
1 s of speech in 5 RAVDESS clips instead of 2, and a 100 ms minimum let 2 of 30 music-like clips
through with ~0.3 s of "speech". Pauses shorter than 300 ms count as part of the speech around
them (the gaps between words). A shout is this detector's weak spot: 2 of the 240 RAVDESS clips
(actor 18's strong anger) hold less than 1 s of speech to it.
"""

from __future__ import annotations

import bisect
import os
import threading
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
THRESHOLD = 0.3
MIN_SPEECH_MS = 300
MIN_SILENCE_MS = 300
# The detector decides per 512-sample frame; Opus's fade-in costs a voice note its first one.
FRAME_S = 512 / SAMPLE_RATE


@dataclass(frozen=True)
class Speech:
    """The stretches of a note that are speech, as (start, end) sample ranges, unpadded."""

    spans: tuple[tuple[int, int], ...]
    sample_rate: int = SAMPLE_RATE

    @property
    def seconds(self) -> float:
        return sum(b - a for a, b in self.spans) / self.sample_rate

    def within(self, start: int, end: int) -> float:
        """Seconds of speech between samples `start` and `end`."""
        overlap = sum(max(0, min(b, end) - max(a, start)) for a, b in self.spans)
        return overlap / self.sample_rate

    def padded(self, pad_s: float, length: int) -> list[tuple[int, int]]:
        """The spans widened by `pad_s` each side, kept inside the note, touching ones joined."""
        pad = int(round(pad_s * self.sample_rate))
        joined: list[tuple[int, int]] = []
        for a, b in self.spans:
            a, b = max(0, a - pad), min(length, b + pad)
            if joined and a <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(b, joined[-1][1]))
            else:
                joined.append((a, b))
        return joined


@dataclass(frozen=True)
class SpeechOnly:
    """A note with everything but its (padded) speech cut out, and the way back to its times."""

    samples: np.ndarray
    spans: tuple[tuple[int, int], ...]  # where each kept piece was in the original note
    starts: tuple[int, ...]  # where each piece starts here

    def original(self, index: int) -> int:
        """The original note's sample for `index` here; the end maps to the last piece's end.

        A boundary between two pieces maps to the start of the later one, so back-to-back windows
        stay back to back in the original note (the cut pause belongs to the window before it).
        """
        if index >= len(self.samples):
            return self.spans[-1][1]
        piece = bisect.bisect_right(self.starts, index) - 1
        return self.spans[piece][0] + index - self.starts[piece]

    def boundary(self, index: int) -> int:
        """`original(index)`, except that a cut between two pieces maps to the middle of the pause.

        Where the tone changes inside a pause nobody can hear; its middle splits the silence
        between the stretch before and the one after, rather than giving all of it to one.
        """
        piece = bisect.bisect_left(self.starts, index)
        if 0 < piece < len(self.starts) and self.starts[piece] == index:
            return (self.spans[piece - 1][1] + self.spans[piece][0]) // 2
        return self.original(index)


def find_speech(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Speech:
    """The speech in a 16 kHz mono float32 note; thread-safe, the model loaded once per process."""
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"the speech detector hears 16 kHz audio, not {sample_rate} Hz")
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    _load_model()
    options = VadOptions(
        threshold=THRESHOLD,
        min_speech_duration_ms=MIN_SPEECH_MS,
        min_silence_duration_ms=MIN_SILENCE_MS,
        speech_pad_ms=0,
    )
    found = get_speech_timestamps(np.asarray(samples, np.float32), options, sample_rate)
    return Speech(tuple((int(s["start"]), int(s["end"])) for s in found), sample_rate)


def speech_only(samples: np.ndarray, speech: Speech, pad_s: float) -> SpeechOnly:
    """The note's speech joined end to end, `pad_s` of sound kept around each stretch."""
    spans = speech.padded(pad_s, len(samples))
    if not spans:
        raise ValueError("a note with no speech has no speech to keep")
    pieces = [samples[a:b] for a, b in spans]
    starts = np.cumsum([0] + [b - a for a, b in spans[:-1]]).tolist()
    joined = np.concatenate(pieces).astype(np.float32, copy=False)
    return SpeechOnly(joined, tuple(spans), tuple(starts))


# Speech this far below the note's loud speech is not its speaker's (`main_voice`). Measured: see
# the README's "Notes as people send them".
MAIN_VOICE_DB = 12.0
# The main voice (`main_voice`): 25 ms frames, measured against the note's loud speech.
LEVEL_FRAME = 400
# The loud speech a frame is measured against is the speech within this many seconds of it.
LEVEL_REACH_S = 2.5
# A frame this close to a loud one counts as loud too, so a word's soft edges stay with it.
LEVEL_HANG_S = 0.125
# Narrowing never leaves less than this; a note that would keep less is heard as the detector hears it.
LEVEL_KEEP_S = 0.5


def main_voice(samples: np.ndarray, speech: Speech, floor_db: float) -> Speech:
    """The speech narrowed to its speaker: the stretches within `floor_db` of the note's loud speech.

    Silero hears other people talking in a café as speech too, so under babble the pauses and the
    seconds before and after the speaker fill with other voices, and the pooled note drifts to
    their tone. The speaker of a voice note is nearly always the loudest voice in it (they hold
    the phone), so a frame more than `floor_db` below the loud speech around it (the 95th
    percentile of the speech frames' levels within LEVEL_REACH_S) is someone else, or a trailing
    breath. The reference is local, so a long note's quiet stretch (a sad sentence after an angry
    one) is measured against itself once it is LEVEL_REACH_S past the loud one. Measured with
    `bench/main_voice.py`: see AnalysisConfig.main_voice_db.
    """
    if not speech.spans or floor_db <= 0:
        return speech
    frame = LEVEL_FRAME
    n = len(samples) // frame
    if n == 0:
        return speech
    power = np.mean(np.square(np.asarray(samples[: n * frame], np.float64).reshape(n, frame)), 1)
    level = 10 * np.log10(power + 1e-12)
    inside = np.zeros(n, bool)
    for a, b in speech.spans:
        inside[a // frame : -(-b // frame)] = True
    if not inside.any():
        return speech
    loud = inside & (level >= _loud_speech(level, inside) - floor_db)
    hang = int(round(LEVEL_HANG_S * speech.sample_rate / frame))
    near = np.convolve(loud.astype(np.float64), np.ones(2 * hang + 1), "same") > 0.5
    kept: list[tuple[int, int]] = []
    for a, b in speech.spans:
        first, last = a // frame, -(-b // frame)
        run_start = None
        for i in range(first, min(last, n) + 1):
            on = i < min(last, n) and bool(near[i])
            if on and run_start is None:
                run_start = i
            elif not on and run_start is not None:
                kept.append((max(a, run_start * frame), min(b, i * frame)))
                run_start = None
    narrowed = Speech(tuple((a, b) for a, b in kept if b > a), speech.sample_rate)
    return narrowed if narrowed.seconds >= min(LEVEL_KEEP_S, speech.seconds) else speech


def _loud_speech(level: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Per frame, the 95th percentile of the speech frames' levels within LEVEL_REACH_S of it."""
    reach = int(round(LEVEL_REACH_S * SAMPLE_RATE / LEVEL_FRAME))
    speech = np.where(inside, level, np.nan)
    padded = np.pad(speech, reach, constant_values=np.nan)
    near = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1)
    rows = np.flatnonzero(inside)
    out = np.full(len(level), np.inf)
    # np.nanpercentile's linear rule, vectorised (it loops over rows: 0.65 s for a 600 s note).
    ordered = np.sort(near[rows], axis=1)  # NaN (not speech) sorts last
    count = np.sum(~np.isnan(ordered), axis=1)  # >= 1: each row's own frame is speech
    at = 0.95 * (count - 1)
    low = np.floor(at).astype(np.int64)
    high = np.minimum(low + 1, count - 1)
    below, above = ordered[np.arange(len(rows)), low], ordered[np.arange(len(rows)), high]
    out[rows] = below + (above - below) * (at - low)
    return out


_loading = threading.Lock()
_loaded = False


def _load_model() -> None:
    """Builds faster-whisper's cached ONNX session once, even when threads ask at the same time.

    `get_vad_model` is an lru_cache, which does not stop two first callers from both loading it.
    A session's `run` is thread-safe, and the model keeps its state per call, so one serves all.
    """
    global _loaded
    if _loaded:
        return
    with _loading:
        if not _loaded:
            # onnxruntime 1.32 writes a telemetry session file (.ses) into $TMPDIR when imported
            # unless told not to (microsoft/onnxruntime#32476); nothing of ours may litter there.
            os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
            from faster_whisper.vad import get_vad_model

            get_vad_model()
            _loaded = True
