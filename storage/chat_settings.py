"""A chat's settings (analysis on/off, the daily digest, language, transcript) and digest claims.

Reached as `store.settings`. `fold_settings` merges a chat's settings into another's inside
move_chat's transaction.
"""

from __future__ import annotations

import time as clock
from dataclasses import replace
from datetime import date
from typing import Any

from storage import rows, values
from storage.backends import Transaction
from storage.db import Db
from storage.models import Chat, ChatSettings, ScheduledDigest

_SETTINGS_SQL = "SELECT * FROM chat_settings WHERE chat_id = ?"
_UPSERT_SQL = """
    INSERT INTO chat_settings (chat_id, analysis, digest, digest_time, digest_channel, language,
                               transcript, updated_at)
    VALUES (:chat, :analysis, :digest, :digest_time, :digest_channel, :language, :transcript,
            :updated_at)
    ON CONFLICT (chat_id) DO UPDATE SET
        analysis = excluded.analysis, digest = excluded.digest,
        digest_time = excluded.digest_time, digest_channel = excluded.digest_channel,
        language = excluded.language, transcript = excluded.transcript,
        updated_at = excluded.updated_at
"""
# A day's digest is claimed once: only a later day than the last claimed (ISO dates compare as
# text), and (claim_digest) only while the digest is on.
_CLAIM_DAY_SQL = """
    UPDATE chat_settings SET digest_sent_on = :day
    WHERE chat_id = :chat AND (CAST(:only_if_on AS INTEGER) = 0 OR digest = 1)
      AND (digest_sent_on IS NULL OR digest_sent_on < :day)
"""


class ChatSettingsStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, chat: Chat) -> ChatSettings:
        row = await self._db.read_one(_SETTINGS_SQL, (chat.id,))
        return rows.settings(row) if row is not None else ChatSettings()

    async def set(self, chat: Chat, settings: ChatSettings) -> ChatSettings:
        """Replace the chat's settings (read, `dataclasses.replace`, write back)."""
        checked = replace(settings, language=values.language(settings.language))
        params = _settings_params(chat.id, checked, clock.time())
        async with self._db.write() as db:
            await db.execute(_UPSERT_SQL, params)
        return checked

    async def scheduled_digests(self) -> list[ScheduledDigest]:
        """Chats with the daily digest switched on, for the scheduler."""
        records = await self._db.read(
            f"SELECT {rows.CHAT_COLUMNS}, s.* FROM chat_settings s JOIN chats c ON c.id = s.chat_id"
            " WHERE s.digest = 1 ORDER BY c.id"
        )
        return [ScheduledDigest(rows.chat(row), rows.settings(row)) for row in records]

    async def claim_digest(self, chat: Chat, day: date) -> bool:
        """Claim the chat's digest of `day` for posting; True for exactly one caller per day.

        One conditional UPDATE, so two schedulers (or a restarted process) cannot both win it.
        False too when the digest is switched off or a later day was already claimed.
        """
        async with self._db.write() as db:
            changed = await db.execute(
                _CLAIM_DAY_SQL, {"chat": chat.id, "day": day.isoformat(), "only_if_on": 1}
            )
            return changed == 1


async def fold_settings(db: Transaction, source: int, target: int) -> None:
    """Merge chat `source`'s settings into chat `target`'s (move_chat; see merged_settings)."""
    kept = await db.fetchone(_SETTINGS_SQL, (target,))
    later = await db.fetchone(_SETTINGS_SQL, (source,))
    if later is None:
        return
    merged = _merged_settings(rows.settings(kept) if kept else ChatSettings(), rows.settings(later))
    await db.execute(_UPSERT_SQL, _settings_params(target, merged, later["updated_at"]))
    # A day's digest posted under either id stays posted.
    if later["digest_sent_on"] is not None:
        await db.execute(
            _CLAIM_DAY_SQL, {"day": later["digest_sent_on"], "chat": target, "only_if_on": 0}
        )


def _merged_settings(kept: ChatSettings, later: ChatSettings) -> ChatSettings:
    """Settings changed from the defaults in the later chat win; analysis stays off if either is."""
    return ChatSettings(
        analysis=kept.analysis and later.analysis,
        digest=kept.digest or later.digest,
        digest_time=later.digest_time or kept.digest_time,
        language=later.language or kept.language,
        digest_channel=later.digest_channel or kept.digest_channel,
        transcript=later.transcript or kept.transcript,
    )


def _settings_params(chat_id: int, settings: ChatSettings, updated_at: float) -> dict[str, Any]:
    """The named parameters of _UPSERT_SQL; a bad digest time or channel raises here."""
    channel = settings.digest_channel
    return {
        "chat": chat_id,
        "analysis": int(settings.analysis),
        "digest": int(settings.digest),
        "digest_time": values.digest_time(settings.digest_time),
        "digest_channel": values.platform_id(channel, "digest channel") if channel else None,
        "language": settings.language,
        "transcript": int(settings.transcript),
        "updated_at": updated_at,
    }
