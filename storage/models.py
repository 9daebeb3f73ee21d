"""What storage hands back: small frozen dataclasses. Times are timezone-aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal

ChatKind = Literal["private", "group"]
# "analyse": a person lets the bot analyse their notes in one group chat (private chats need none).
# "donate_audio": a person lets the bot keep their audio for retraining; global, not per chat.
ConsentKind = Literal["analyse", "donate_audio"]
CHAT_KINDS: tuple[ChatKind, ...] = ("private", "group")
CONSENT_KINDS: tuple[ConsentKind, ...] = ("analyse", "donate_audio")


@dataclass(frozen=True)
class Person:
    """Someone on one platform: (platform, platform_user_id) is unique; `id` is storage's own."""

    id: int
    platform: str
    platform_user_id: str
    language: str | None
    # As the platform last showed it; used to name people in summaries.
    display_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class Chat:
    """A conversation on one platform; a private chat has one human, its `owner_id`."""

    id: int
    platform: str
    platform_chat_id: str
    kind: ChatKind
    owner_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Consent:
    """One grant: given at a time, and withdrawn at a later one (None while in force)."""

    person_id: int
    kind: ConsentKind
    chat_id: int | None
    given_at: datetime
    withdrawn_at: datetime | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True)
class ChatSettings:
    """Per-chat switches; a chat that never changed anything has these defaults."""

    analysis: bool = True
    digest: bool = False
    # When the daily digest is posted, in UTC.
    digest_time: time | None = None
    language: str | None = None
    # The platform's id of the channel the digest goes to, where one chat holds several (a Discord
    # server: /digest was switched on there); None posts it in the chat's usual place.
    digest_channel: str | None = None
    # A group's admins allow members' /transcript here (words under the tone); off by default.
    transcript: bool = False


@dataclass(frozen=True)
class ScheduledDigest:
    """A chat that wants a daily digest, with its settings."""

    chat: Chat
    settings: ChatSettings


@dataclass(frozen=True)
class StoredNote:
    """One analysed voice note (the model's answer; votes are kept apart, see Vote)."""

    id: int
    person: Person
    chat_id: int
    platform_message_id: str
    created_at: datetime
    duration_s: float
    model: str
    label: str
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)
    # Relative to the store's data folder; set only for audio its speaker donated.
    audio_path: str | None = None
    # The bot's answer message, once linked (set_reply_message).
    reply_message_id: str | None = None
    # The answer's text as sent (without a vote tally); None for notes stored before it was kept.
    answer_text: str | None = None


@dataclass(frozen=True)
class Vote:
    """Someone's correction of a note's label; one per voter per note, the latest replaces."""

    note_id: int
    voter_id: int
    label: str
    # 0 (barely) .. 1 (very strongly), when the voter said.
    intensity: float | None
    created_at: datetime


@dataclass(frozen=True)
class StoredBaseline:
    """A person's running voice statistics as kept: numbers, never audio (inference.baseline)."""

    # The model whose embeddings these describe; another model's notes never meet them.
    encoder: str
    count: int
    dim: int
    # Opaque to storage: SpeakerBaseline.to_bytes() / from_bytes(count, stats).
    stats: bytes
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ForgetReport:
    """What `forget_person` deleted."""

    found: bool
    notes: int = 0
    votes_cast: int = 0
    # Other people's votes on the forgotten person's notes, which go with the notes.
    votes_on_their_notes: int = 0
    consents: int = 0
    chats: int = 0
    # Donated recordings deleted: files (SQLite) or rows (PostgreSQL).
    audio_files: int = 0
    # Voice baselines (0 or 1), their statistics included.
    baselines: int = 0


@dataclass(frozen=True)
class DonatedClip:
    """Donated audio with its final (voted) label, ready for retraining."""

    note_id: int
    # "<platform>:<person id>": storage's own id, so exports carry no platform ids.
    speaker: str
    label: str
    # The audio's relative name (`<platform>/<person id>/<note id>.<suffix>` under "audio/"):
    # a file under the data folder on SQLite, a row on PostgreSQL (store.notes.read_audio).
    audio_path: str
