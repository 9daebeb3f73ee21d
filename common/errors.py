"""The one base for errors a person can cause or meet, each with a message fit to show them.

`code` is stable: the bots and the web page word it once per language (bots/i18n, "error.<code>")
with `params`; `str(error)` is the English message, which the CLI prints as is. Inference,
storage and the bots each extend it with their own codes.
"""

from __future__ import annotations

from typing import Any


class VoiceMoodError(Exception):
    """Base for every error whose message may be shown to the person who caused it."""

    code = "error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params = params
