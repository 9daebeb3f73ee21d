"""Errors a user can cause or meet, each with a message fit to show them.

`code` is stable: renderers translate it (English and Korean) with `params`; `str(error)` is the
English message, which the CLI prints as is.
"""

from __future__ import annotations

from typing import Any


class VoiceMoodError(Exception):
    """Base for every error whose message may be shown to the person who caused it."""

    code = "error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params = params


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
