"""Logging for the `voicemood` commands: one line per event, plain text or JSON, secrets redacted.

Audio never reaches a log: handlers log what happened (a code, a size, an id), not the content.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from voicemood.settings import Settings

REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def configure_logging(
    level: str | int,
    json: bool,
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Send every record to `stream` (stderr) one line each, as JSON if `json`, without `secrets`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json else _TextFormatter())
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Library warnings (warnings.warn) become records too, so they get the same format.
    logging.captureWarnings(True)
    if "transformers" in sys.modules:
        route_transformers()


def route_transformers() -> None:
    """transformers writes to stderr itself (own handler, progress bars): send it through ours.

    Called before a transformers model loads (voicemood.wiring), not by every command: importing
    transformers only to quiet it took a second of `classify`'s start with the default model.
    """
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_default_handler()
    hf_logging.enable_propagation()
    hf_logging.disable_progress_bar()


def secrets_of(settings: Settings) -> list[str]:
    """The configured values no log line may contain (the bot tokens, the database and Redis
    URLs and their passwords)."""
    tokens = (
        settings.telegram_token,
        settings.discord_token,
        settings.database_url,
        settings.redis_url,
    )
    secrets = [token.get_secret_value() for token in tokens if token is not None]
    for url in (settings.database_url, settings.redis_url):
        if url is not None:
            password = urlsplit(url.get_secret_value()).password
            if password:
                secrets.append(password)
    return secrets


class RedactSecrets(logging.Filter):
    """Replaces each secret (and a bot token's secret part) in a record's text with [redacted]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        parts: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            parts.add(secret)
            # A Telegram token is "<bot id>:<secret>"; the secret part alone must not leak either.
            _, _, tail = secret.partition(":")
            if len(tail) >= 8:
                parts.add(tail)
        self._secrets = sorted(parts, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        # Render now (message, traceback, extras) so the formatter only ever sees clean text.
        record.msg = self._clean(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        for key, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, key, self._clean(value))
        return True

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the record's extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    """The familiar text line; a traceback stays on one line (newlines escaped)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\\n")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
    }
