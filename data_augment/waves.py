"""Reading the audio of labelled clips into memory, once per run, as 16 kHz mono float32.

WAV and FLAC (the shared corpora) are read by soundfile, which is many times faster than a child
ffmpeg per file; anything else (Opus, mp3 from feedback exports) goes through the bot's own
decoder, so training hears what inference hears.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from data_augment.datasets import Clip
from inference.models.base import SAMPLE_RATE

_SOUNDFILE_SUFFIXES = (".wav", ".flac")


def load_waveforms(clips: Sequence[Clip], *, progress: bool = False) -> list[np.ndarray]:
    """The samples of every clip, in order."""
    from tqdm import tqdm

    return [
        load_waveform(clip.path)
        for clip in tqdm(clips, desc="reading audio", unit="clip", disable=not progress)
    ]


def load_waveform(path: Path) -> np.ndarray:
    """One file as 16 kHz mono float32."""
    if Path(path).suffix.lower() in _SOUNDFILE_SUFFIXES:
        import soundfile as sf

        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
        mono = samples.mean(axis=1)
        if rate != SAMPLE_RATE:
            import librosa

            mono = librosa.resample(mono, orig_sr=rate, target_sr=SAMPLE_RATE)
        return np.ascontiguousarray(mono, dtype=np.float32)
    from inference.audio import DecodeLimits, decode

    # Training files may be long; the bot's size and duration limits are for users' notes.
    limits = DecodeLimits(max_bytes=2**31, max_duration_s=3600.0, min_duration_s=0.0)
    return decode(Path(path), limits).samples
