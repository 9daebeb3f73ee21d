"""A video note's sound track alone: what the voice analysis hears, and all a donation keeps.

`sound_track` turns a video's decoded audio (16 kHz mono, what the model hears anyway) into a
FLAC file. The voice analysis and a donation are handed only that file, never the video, so a
donated video note is kept as its sound and nothing of its pictures.
"""

from __future__ import annotations

import io

import soundfile as sf

from inference.audio import Audio

# The suffix a video note's sound is kept under when its speaker donates it.
SOUND_SUFFIX = "flac"


def sound_track(audio: Audio) -> bytes:
    """The decoded audio as a FLAC file (24-bit: the float samples' detail the model hears)."""
    out = io.BytesIO()
    sf.write(out, audio.samples, audio.sample_rate, format="FLAC", subtype="PCM_24")
    return out.getvalue()
