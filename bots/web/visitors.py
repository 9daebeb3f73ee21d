"""Anonymous web visitors: analysed and forgotten, unless they tick "donate" before analysing.

A donor is a person on the platform "web" whose id is a hash of a random session token kept in
their browser's cookie (the token itself is never stored, so the database alone cannot act as
them). Their donated note, its audio and their votes are stored like a chat bot's donated notes,
so they reach retraining through `voicemood export-feedback` the same way.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from pathlib import PurePath

from bots.i18n import label_name, t
from bots.replies import render_prediction
from bots.service import PICKABLE_LABELS, VoiceMoodService
from bots.web.errors import NoteGone, UnknownLabel
from inference.answer import Prediction
from storage.errors import StorageError

PLATFORM = "web"
# Extensions kept as they came; anything else is stored as ".audio" (ffmpeg reads it either way).
_KNOWN_SUFFIXES = frozenset(
    {"ogg", "oga", "opus", "webm", "mp3", "m4a", "mp4", "wav", "flac", "aac"}
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebAnswer:
    """One analysed upload: the answer, its sentence, and the stored note's id if donated."""

    prediction: Prediction
    text: str
    file: str
    note_id: int | None

    def to_json(self) -> dict[str, object]:
        """`voicemood classify --json`'s answer plus the sentence and the donated note's id."""
        return {
            "file": self.file,
            **self.prediction.to_json(),
            "text": self.text,
            "donated": self.note_id is not None,
            "note_id": self.note_id,
        }


@dataclass(frozen=True)
class FeedbackAnswer:
    stored: bool
    message: str


def new_session() -> str:
    """A fresh random session token for a donor's cookie."""
    return secrets.token_urlsafe(24)


class WebVisitors:
    """What the web page and API can do, over the same service (analyzer and store) as the bots."""

    def __init__(self, service: VoiceMoodService) -> None:
        self.service = service

    async def analyse(
        self, data: bytes, *, file: str, lang: str, donor_session: str | None = None
    ) -> WebAnswer:
        """Analyse an upload; with a donor session the note and its audio are stored under it."""
        prediction = await self.service.analyzer.analyse(data)
        note_id = None
        if donor_session is not None:
            note_id = await self._keep(donor_session, data, file, prediction)
        return WebAnswer(prediction, render_prediction(prediction, lang), file, note_id)

    async def feedback(
        self, session: str | None, note_id: int | None, label: str, lang: str
    ) -> FeedbackAnswer:
        """A vote on an answer: stored only on the session's own donated note, else thanked."""
        if label not in PICKABLE_LABELS:
            raise UnknownLabel(f"Unknown label {label!r}.", label=label)
        if note_id is None:
            return FeedbackAnswer(False, t(lang, "web.feedback_not_stored"))
        store = self.service.store
        try:
            note = await store.get_note(note_id)
            if session is None or (note.person.platform, note.person.platform_user_id) != (
                PLATFORM,
                _person_id(session),
            ):
                raise NoteGone("That note is not yours.", note_id=note_id)
            await store.vote(note.person, note.id, label)
        except StorageError:
            raise NoteGone("That note is no longer stored.", note_id=note_id) from None
        return FeedbackAnswer(True, t(lang, "vote.thanks", label=label_name(lang, label)))

    async def forget(self, session: str | None, lang: str) -> str:
        """Delete everything kept under the session; the sentence that says what went."""
        if session is None:
            return t(lang, "forget.nothing")
        report = await self.service.store.forget_person(PLATFORM, _person_id(session))
        if not report.found:
            return t(lang, "forget.nothing")
        return t(
            lang,
            "forget.done",
            notes=report.notes,
            votes=report.votes_cast,
            audio=report.audio_files,
        )

    @property
    def model_name(self) -> str:
        return self.service.analyzer.worker.name

    @property
    def running(self) -> bool:
        return self.service.analyzer.worker.running

    async def _keep(
        self, session: str, data: bytes, file: str, prediction: Prediction
    ) -> int | None:
        """Store a donor's note with its audio; a storage failure loses the note, not the answer."""
        store = self.service.store
        try:
            person = await store.ensure_person(PLATFORM, _person_id(session))
            chat = await store.ensure_chat(
                PLATFORM, person.platform_user_id, "private", owner=person
            )
            await store.give_consent(person, "donate_audio")
            note = await store.add_note(
                person,
                chat,
                message_id=secrets.token_hex(8),
                duration_s=prediction.duration_s,
                model=prediction.model,
                label=prediction.label,
                confidence=prediction.confidence,
                probabilities=prediction.probabilities,
                audio=data,
                audio_suffix=_suffix(file),
            )
        except Exception:
            log.exception("storing a donated web note failed; the answer goes out without it")
            return None
        return note.id


def _person_id(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()[:32]


def _suffix(file: str) -> str:
    suffix = PurePath(file).suffix.lower().lstrip(".")
    return suffix if suffix in _KNOWN_SUFFIXES else "audio"
