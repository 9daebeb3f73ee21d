"""Faces in video notes: a person's own opt-in (/face on|off) and the hint that it exists.

Off by default and per person, like /baseline: the faces in a person's video notes (Telegram
round videos and video messages, Discord video attachments) may be read only with it on, and in
groups only for members who opted in there (as for voices). Without it a video note gets the
voice answer, and once per person a one-sentence hint that /face exists. Frames and videos are
never stored (inference.video_notes): only the choice and when the hint was shown are kept. The
reading itself comes with inference.face (issue 22); until it is wired, /face on is recorded.
"""

from __future__ import annotations

from bots.core.chats import Chats
from bots.core.values import CommandContext, Reply
from bots.i18n import t
from storage.models import Person


class Faces:
    def __init__(self, chats: Chats) -> None:
        self.chats, self.store = chats, chats.store

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
