"""The optional transcript: a note's words under its tone, for people who switch it on.

Off by default. A person turns it on for themselves (/transcript on, in a private chat); in a
group their words are shown only where the group's admins allowed it (/transcript on there).
The words are shown once and never stored: the note's stored answer is the tone alone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import numpy as np

from bots.core.chats import Chats
from bots.core.values import CommandContext, Reply
from bots.i18n import t
from inference.analysis import Analyzer
from inference.answer import Prediction
from inference.baseline import SpeakerBaseline
from inference.cues import CueBaseline
from inference.personal import PersonalAdjustment
from inference.transcript import Transcriber, Transcript
from storage.models import Chat, Person

log = logging.getLogger("bots.service")


class Transcripts:
    def __init__(self, chats: Chats, analyzer: Analyzer, transcriber: Transcriber) -> None:
        self.chats, self.store, self.analyzer = chats, chats.store, analyzer
        self.transcriber = transcriber

    async def command(self, ctx: CommandContext) -> Reply:
        """/transcript on|off: for yourself in a private chat; for the chat, by a group's admins."""
        lang, state = ctx.lang, ctx.args[:1]
        if state not in (["on"], ["off"], []):
            return Reply(t(lang, "transcript.usage"))
        if ctx.chat.kind == "group":
            settings = await self.chats.settings(ctx.chat)
            if not state:
                return Reply(t(lang, f"transcript.chat_{'on' if settings.transcript else 'off'}"))
            if not ctx.is_admin:
                return Reply(t(lang, "admins_only"))
            on = state == ["on"]
            await self.store.settings.set(ctx.chat, replace(settings, transcript=on))
            return Reply(t(lang, f"transcript.chat_{'on' if on else 'off'}"))
        if not state:
            on = await self.store.preferences.transcript_on(ctx.person)
            return Reply(t(lang, f"transcript.status_{'on' if on else 'off'}"))
        await self.store.preferences.set_transcript(ctx.person, state == ["on"])
        return Reply(t(lang, f"transcript.{state[0]}"))

    async def wanted(self, person: Person | None, chat: Chat | None) -> bool:
        """Whether this note's words should be shown: the speaker's choice, and the group's."""
        if person is None or chat is None:
            return False
        try:
            if not await self.store.preferences.transcript_on(person):
                return False
            return chat.kind == "private" or (await self.chats.settings(chat)).transcript
        except Exception:
            self.chats.health.down()
            return False

    async def analyse(
        self,
        data: bytes,
        *,
        words: bool,
        baseline: SpeakerBaseline | None = None,
        usual_cues: CueBaseline | None = None,
        language: str | SpeakerBaseline | None = None,
        personal: PersonalAdjustment | None = None,
    ) -> tuple[Prediction, Transcript | None]:
        """The note's answer, and (when `words`) its transcript, made side by side."""
        if not words:
            prediction = await self.analyzer.analyse(
                data,
                baseline=baseline,
                usual_cues=usual_cues,
                language=language,
                personal=personal,
            )
            return prediction, None
        audio = await self.analyzer.decode(data)
        transcribing = asyncio.create_task(self._transcribe(audio.samples))
        try:
            prediction = await self.analyzer.analyse_audio(
                audio,
                baseline=baseline,
                usual_cues=usual_cues,
                language=language,
                personal=personal,
            )
        except BaseException:
            transcribing.cancel()
            raise
        return prediction, await transcribing

    @staticmethod
    def under(text: str, heard: Transcript | None, lang: str) -> str:
        """The answer with the words under it (as it is when there are none to show)."""
        if heard is None:
            return text
        if not heard.text:
            return f"{text}\n\n{t(lang, 'transcript.silent')}"
        return f"{text}\n\n{t(lang, 'transcript.words', words=heard.text)}"

    async def _transcribe(self, samples: np.ndarray) -> Transcript | None:
        """A failure to transcribe never costs the note its answer."""
        try:
            return await self.transcriber.transcribe(samples)
        except Exception:
            log.warning("transcribing a voice note failed", exc_info=True)
            return None
