"""Errors a user can cause or meet while their audio is decoded and analysed.

Each extends the product-wide base (common.errors): a stable `code`, worded once for users by the
renderers, with `params`; `str(error)` is the English message, which the CLI prints as is.
"""

from __future__ import annotations

# Re-exported: inference code and its callers name the base from here as before.
from common.errors import VoiceMoodError as VoiceMoodError


class AudioError(VoiceMoodError):
    """The audio could not be analysed."""

    code = "audio"


class EmptyAudio(AudioError):
    code = "empty"


class UndecodableAudio(AudioError):
    """Corrupt, truncated or not audio at all."""

    code = "undecodable"


class NoAudioStream(AudioError):
    """A container (such as a video) with no sound in it."""

    code = "no_audio"


class SilentAudio(AudioError):
    code = "silent"


class TooShort(AudioError):
    code = "too_short"


class NoSpeech(AudioError):
    """Sound, but no speech in it: a song, street noise, applause."""

    code = "no_speech"


class TooLittleSpeech(AudioError):
    """Speech, but less of it than a tone of voice can be heard in."""

    code = "too_little_speech"


class TooLarge(AudioError):
    code = "too_large"


class TooLong(AudioError):
    code = "too_long"


class Busy(VoiceMoodError):
    """The inference queue is full; try again shortly."""

    code = "busy"


class InferenceTimeout(VoiceMoodError):
    code = "timeout"


class ModelNotConfigured(VoiceMoodError):
    code = "no_model"


class ModelLoadError(VoiceMoodError):
    code = "model_load"


class FaceError(VoiceMoodError):
    """A video or photo could not be read for a face (inference.face)."""

    code = "face"


class UndecodableVideo(FaceError):
    """Corrupt, truncated, or not a video or photo at all."""

    code = "undecodable_video"


class NoVideoStream(FaceError):
    """A file (such as a voice note) with no picture in it."""

    code = "no_video"


class FaceModelError(ModelLoadError):
    """The face reader's weights are missing or not the pinned ones: the voice is still heard."""

    code = "face_model"
