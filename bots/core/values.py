"""The small values adapters and features pass each other: who, where, what to send."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from inference.answer import Prediction
from inference.face import FaceReading
from storage.models import Chat, Person


@dataclass(frozen=True)
class User:
    """Who did something, as the platform tells it."""

    platform: str
    id: str
    name: str
    language_code: str | None = None


@dataclass(frozen=True)
class Where:
    """The chat it happened in."""

    platform: str
    chat_id: str
    is_group: bool
    # The channel inside the chat, where one chat holds several (a Discord server); else None.
    channel_id: str | None = None


@dataclass(frozen=True)
class Button:
    text: str
    # At most 64 bytes: Telegram's callback-data limit (a ButtonAction, encoded).
    data: str


@dataclass(frozen=True)
class Attachment:
    """A file to send as a document (not shown inline): its name, bytes and MIME type."""

    filename: str
    data: bytes
    mime_type: str


@dataclass(frozen=True)
class Reply:
    """What to send: text (the caption when there is a photo), optional buttons and PNG.

    `files` go after the text, as documents to download (an export).
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: bytes | None = None
    note_id: int | None = None
    files: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class ButtonAnswer:
    """The short notice for the tapper, how the message with the button should now read, and a
    new message to send below it (practice's next round or summary)."""

    notice: str
    edit: Reply | None = None
    follow: Reply | None = None


@dataclass(frozen=True)
class VoiceNote:
    """A recording in a message; `fetch` downloads it only once the service decided to listen."""

    message_id: str
    fetch: Callable[[], Awaitable[bytes]]
    size: int | None = None
    suffix: str = "ogg"
    # A video (a round video note, a video message or attachment): its sound is heard, and its
    # faces are read for people with /face on; only its sound is ever kept (bots.core.faces).
    video: bool = False


@dataclass(frozen=True)
class Heard:
    """An analysed upload: the model's answer, and its stored note's id when one was kept.

    `words` are the sender's own names for tones (/words), when they are a stored person.
    """

    prediction: Prediction
    note_id: int | None = None
    words: Mapping[str, str] = field(default_factory=dict)
    # The face of a video, when it was asked for: a reading, or the key of the sentence that
    # says why there is none (bots.core.faces.Faces.read).
    face: FaceReading | str | None = None


# What became of a vote on an uploaded note (see Feedback.on_upload_vote).
UploadVote = Literal["counted", "refused", "storage_full"]


@dataclass(frozen=True)
class CommandContext:
    """Everything a command sees: who asked, where, in which language, with what arguments."""

    person: Person
    chat: Chat
    user: User
    where: Where
    lang: str
    # Lower-cased, as typed after the command's name.
    args: list[str]
    # The platform's word on whether the sender runs the chat (group admin, Manage Server).
    is_admin: bool = False
