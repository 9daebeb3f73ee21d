"""Anonymous web visitors: analysed and forgotten, unless they tick "remember" or "donate".

A donor is a person on the platform "web" whose id is a hash of a random session token kept in
their browser's cookie (the token itself is never stored, so the database alone cannot act as
them). Everything is stored through VoiceMoodService, under the same rules as the chat bots'
notes: "remember my answers" keeps each answer (never the audio) for the visitor's own history,
export and words; "donate" also keeps the recording, which reaches retraining through
`voicemood export-feedback` as the bots' donations do.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath

from bots.core.buttons import PICKABLE_LABELS
from bots.core.faces import Faces
from bots.core.service import VoiceMoodService
from bots.core.values import User, VoiceNote
from bots.i18n import LANGUAGES, label_name, t
from bots.replies import render_cues, render_prediction
from bots.web.errors import NoteGone, UnknownLabel
from common.audio import UPLOAD_SUFFIXES
from inference.answer import Prediction
from inference.cues import CUE_NAMES, departure
from inference.face import FaceReading, fuse

PLATFORM = "web"
# Upload suffixes whose files may carry pictures ("audio": a name that says nothing we know).
_MAY_HOLD_PICTURES = frozenset({"mp4", "webm", "audio"})


@dataclass(frozen=True)
class WebAnswer:
    """One analysed upload: the answer, its sentence, and the stored note's id if donated."""

    prediction: Prediction
    text: str
    file: str
    note_id: int | None
    donated: bool = False
    words: Mapping[str, str] = field(default_factory=dict)
    # A video's face (with the `face` tick), or the sentence key saying why it was not read.
    face: FaceReading | str | None = None
    lang: str = "en"

    def to_json(self) -> dict[str, object]:
        """`voicemood classify --json`'s answer, the sentence, the kept note's id, the cue reading.

        `cue_reading`: what the cues were read against ("own", "typical" or null), each cue's
        departure from it in its own tolerance (beyond +-1 it is "higher"/"lower"), and the
        bots' one-line cue sentence in every language. `words`: the visitor's names for tones.
        """
        cues = self.prediction.cues
        return {
            "file": self.file,
            **self.prediction.to_json(),
            "text": self.text,
            "donated": self.donated and self.note_id is not None,
            "remembered": self.note_id is not None,
            "note_id": self.note_id,
            "cue_reading": {
                "against": cues.against if cues is not None else None,
                "departures": {
                    name: _departure(getattr(cues, name).value, getattr(cues, name).usual, name)
                    if cues is not None
                    else None
                    for name in CUE_NAMES
                },
                "line": {lang: render_cues(cues, lang) for lang in LANGUAGES},
            },
            "words": dict(self.words),
            **self._face_json(),
        }

    def _face_json(self) -> dict[str, object]:
        face = self.face
        if face is None:
            return {"face": None, "fused": None, "face_text": None}
        text = Faces.lines(self.prediction, face, self.lang, self.words)
        if isinstance(face, str):
            return {"face": None, "fused": None, "face_text": text}
        fused = fuse(self.prediction.probabilities, self.prediction.confidence, face)
        return {
            "face": face.to_json(),
            "fused": fused.to_json() if face.found else None,
            "face_text": text,
        }


@dataclass(frozen=True)
class FeedbackAnswer:
    stored: bool
    message: str


def new_session() -> str:
    """A fresh random session token for a donor's cookie."""
    return secrets.token_urlsafe(24)


class WebVisitors:
    """What the web page and API can do, through the same service as the bots."""

    def __init__(self, service: VoiceMoodService) -> None:
        self.service = service

    async def analyse(
        self,
        data: bytes,
        *,
        file: str,
        lang: str,
        donor_session: str | None = None,
        keep_audio: bool = True,
        face: bool = False,
    ) -> WebAnswer:
        """Analyse an upload; with a session the answer is kept under it, and the audio with
        `keep_audio` (a donation); otherwise nothing is kept. `face`: a video's face is read
        too (never kept)."""
        heard = await self.service.on_upload(
            _upload(data, file), _donor(donor_session), keep_audio=keep_audio, lang=lang, face=face
        )
        text = render_prediction(heard.prediction, lang, heard.words)
        donated = donor_session is not None and keep_audio
        return WebAnswer(
            heard.prediction, text, file, heard.note_id, donated, heard.words, heard.face, lang
        )

    async def feedback(
        self, session: str | None, note_id: int | None, label: str, lang: str
    ) -> FeedbackAnswer:
        """A vote on an answer: stored only on the session's own donated note, else thanked."""
        if label not in PICKABLE_LABELS:
            raise UnknownLabel(f"Unknown label {label!r}.", label=label)
        if note_id is None:
            return FeedbackAnswer(False, t(lang, "web.feedback_not_stored"))
        outcome = await self.service.on_upload_vote(_donor(session), note_id, label)
        if outcome == "storage_full":
            return FeedbackAnswer(False, t(lang, "error.storage_full"))
        if outcome == "refused":
            raise NoteGone("That note is not stored, or not yours.", note_id=note_id)
        return FeedbackAnswer(True, t(lang, "vote.thanks", label=label_name(lang, label)))

    async def forget(self, session: str | None, lang: str) -> str:
        """Delete everything kept under the session; the sentence that says what went."""
        donor = _donor(session)
        if donor is None:
            return t(lang, "forget.nothing")
        return await self.service.forget(donor, lang)

    @property
    def model_name(self) -> str:
        return self.service.analyzer.worker.name

    @property
    def running(self) -> bool:
        return self.service.analyzer.worker.running


def _departure(value: float | None, usual: float | None, name: str) -> float | None:
    off = departure(name, value, usual)
    return None if off is None else round(off, 2)


def _upload(data: bytes, file: str) -> VoiceNote:
    """The upload as a voice note; the upload reader already held it to the page's own limit."""

    async def fetch() -> bytes:
        return data

    # An upload has no message id of its own; a random one never lands on another note.
    suffix = _suffix(file)
    # A dropped file may be a video (mp4, webm, or a kind the name does not tell): only its
    # sound is heard and kept, never its pictures.
    video = suffix in _MAY_HOLD_PICTURES
    return VoiceNote(secrets.token_hex(8), fetch, suffix=suffix, video=video)


def visitor(session: str | None, lang: str) -> User | None:
    """The web person a session stands for, speaking `lang` (the page's choice)."""
    return User(PLATFORM, _person_id(session), "", lang) if session is not None else None


def _donor(session: str | None) -> User | None:
    """The web person a session stands for (no name: web visitors are anonymous)."""
    return User(PLATFORM, _person_id(session), "") if session is not None else None


def _person_id(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()[:32]


def _suffix(file: str) -> str:
    suffix = PurePath(file).suffix.lower().lstrip(".")
    return suffix if suffix in UPLOAD_SUFFIXES else "audio"
