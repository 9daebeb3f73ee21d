"""Mistakes in a web request, typed like inference's errors so they reach people as polite sentences."""

from __future__ import annotations

from inference.errors import VoiceMoodError


class WebRequestError(VoiceMoodError):
    """A request the API cannot take as it is; `status` is its HTTP status."""

    code = "bad_request"
    status = 400


class BadRequest(WebRequestError):
    """Not a multipart upload, a malformed one, or JSON that is not what the API reads."""


class NoAudioField(WebRequestError):
    code = "no_file"


class UnknownLabel(WebRequestError):
    code = "bad_label"


class NoteGone(WebRequestError):
    """The note is not stored (any more), or belongs to somebody else."""

    code = "gone"
    status = 404


class NotRemembered(WebRequestError):
    """Nothing is kept for this browser: it never ticked "remember" (or "donate"), or forgot."""

    code = "not_remembered"
    status = 404


class NoPracticeOpen(WebRequestError):
    """An attempt with no practice round open (never started, stopped, expired or forgotten)."""

    code = "no_practice"
    status = 409


class NotPractised(WebRequestError):
    """A tone the running model cannot offer for practice."""

    code = "bad_practice_tone"
