"""Faces in video notes: a person's own opt-in (/face on|off), the reading, and its lines.

Off by default and per person, like /baseline. With it on, the frames of the person's video
notes (Telegram round videos and video messages, Discord video attachments) are read for a facial
expression beside the tone of voice, and the answer says what each side shows and where the two
meet on the valence/arousal plane, or that they disagree. In groups a member's videos are read
only when they opted in there (as for voices) and have /face on. Without it a video note gets
the voice answer, and once per person a one-sentence hint that /face exists. Frames and videos
are never stored (inference.video_notes): only the choice and when the hint was shown are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bots.core.chats import Chats
from bots.core.values import CommandContext, Reply
from bots.face_replies import render_face, render_fusion
from bots.i18n import t
from inference.answer import Prediction
from inference.face import FaceReading, fuse
from inference.video_notes import FaceReader
from storage.models import Person

log = logging.getLogger("bots.service")


class Faces:
    def __init__(self, chats: Chats, reader: FaceReader | None = None) -> None:
        self.chats, self.store = chats, chats.store
        # Made on first use, so nothing of the face model loads before someone asks for it.
        self._reader = reader

    @property
    def reader(self) -> FaceReader:
        if self._reader is None:
            self._reader = FaceReader()
        return self._reader

    async def command(self, ctx: CommandContext) -> Reply:
        """/face on|off, or alone: whether the faces in my video notes are read."""
        lang, state = ctx.lang, ctx.args[:1]
        if state == ["on"]:
            await self.store.faces.set_reading(ctx.person, True)
            return Reply(t(lang, "face.on"))
        if state == ["off"]:
            await self.store.faces.set_reading(ctx.person, False)
            return Reply(t(lang, "face.off"))
        if state:
            return Reply(t(lang, "face.usage"))
        on = await self.store.faces.reading_on(ctx.person)
        return Reply(t(lang, f"face.status_{'on' if on else 'off'}"))

    async def wanted(self, person: Person | None) -> bool:
        """Whether this person's faces may be read (their /face on); False when unknown."""
        if person is None:
            return False
        try:
            return await self.store.faces.reading_on(person)
        except Exception:
            self.chats.health.down()
            return False

    async def hint_once(self, person: Person | None, lang: str) -> str | None:
        """The hint that /face exists, the first time a person without it sends a video."""
        if person is None:
            return None
        try:
            first = await self.store.faces.take_hint(person)
        except Exception:
            self.chats.health.down()
            return None
        return t(lang, "face.hint") if first else None

    async def read(self, video: bytes) -> FaceReading | str:
        """The faces of a video, or the key of the sentence that says why there is no reading."""
        try:
            reading = await self.reader.read(video)
        except Exception:
            # A video whose sound was heard but whose pictures could not be read.
            log.warning("reading the faces of a video note failed", exc_info=True)
            return "face.unreadable"
        return reading if reading is not None else "face.busy"

    @staticmethod
    def lines(
        prediction: Prediction,
        face: FaceReading | str,
        lang: str,
        words: Mapping[str, str] | None = None,
    ) -> str:
        """What the face shows, then how it meets the voice (or why only the voice answered)."""
        if isinstance(face, str):
            return t(lang, face)
        looks = render_face(face, lang, words)
        fused = fuse(prediction.probabilities, prediction.confidence, face)
        together = render_fusion(
            prediction.label, face, fused, lang, words, voice_not_sure=prediction.not_sure
        )
        return f"{looks}\n{together}" if together else looks
