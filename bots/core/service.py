"""The one object adapters hold: VoiceMoodService, a thin facade over the features.

Adapters (Telegram, Discord, the web page) translate a platform event into one call here and
render the returned Reply (the web page: the returned Heard); they hold no product logic, and
nothing is stored except through the features. `store` is here for tests and the CLI only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bots.core.buttons import ButtonAction
from bots.core.chats import Chats
from bots.core.commands import BY_NAME
from bots.core.consent import Consent
from bots.core.digests import Digests, DueDigest
from bots.core.faces import Faces
from bots.core.feedback import Feedback
from bots.core.history import OwnHistory
from bots.core.language_baseline import LanguageBaselineConfig, LanguageBaselines
from bots.core.music import Music
from bots.core.my_data import MyData
from bots.core.notes import Notes
from bots.core.practice import (
    NoPracticeRound,
    Practice,
    PracticeAttempt,
    PracticeRound,
    PracticeSummary,
)
from bots.core.transcripts import Transcripts
from bots.core.values import (
    ButtonAnswer,
    CommandContext,
    Heard,
    Reply,
    UploadVote,
    User,
    VoiceNote,
    Where,
)
from bots.core.words import Words
from bots.i18n import t
from common.audio import DEFAULT_MAX_BYTES
from inference.analysis import Analyzer
from inference.transcript import Transcriber
from inference.video_notes import FaceReader
from storage.store import Store


class VoiceMoodService:
    def __init__(
        self,
        analyzer: Analyzer,
        store: Store,
        *,
        default_language: str = "en",
        max_bytes: int = DEFAULT_MAX_BYTES,
        reply_link_wait_s: float = 1.0,
        transcriber: Transcriber | None = None,
        face_reader: FaceReader | None = None,
        language_baseline: LanguageBaselineConfig | None = None,
    ) -> None:
        self.analyzer, self.store = analyzer, store
        self.chats = Chats(store, default_language)
        self.words = Words(self.chats)
        # Loads its model only when someone first has /transcript on.
        self.transcripts = Transcripts(self.chats, analyzer, transcriber or Transcriber())
        # Reads faces only in the videos of people with /face on; its model loads on first use.
        self.faces = Faces(self.chats, face_reader)
        # Statistics of each speaker language's notes: by default only of languages the model
        # never trained on.
        self.languages = LanguageBaselines(self.chats, language_baseline, analyzer.worker)
        self.notes = Notes(
            self.chats,
            analyzer,
            max_bytes,
            self.words,
            self.transcripts,
            self.faces,
            self.languages,
        )
        self.feedback = Feedback(self.chats, reply_link_wait_s)
        self.consent = Consent(self.chats, analyzer)
        self.digests = Digests(self.chats)
        self.history = OwnHistory(self.chats, self.words)
        self.my_data = MyData(self.chats)
        self.practice = Practice(self.chats, analyzer, self.notes.download)
        self.music = Music(self.chats, not_sure_below=analyzer.config.not_sure_below)

    @property
    def default_language(self) -> str:
        return self.chats.default_language

    @property
    def max_bytes(self) -> int:
        return self.notes.max_bytes

    @property
    def reply_link_wait_s(self) -> float:
        return self.feedback.reply_link_wait_s

    @reply_link_wait_s.setter
    def reply_link_wait_s(self, seconds: float) -> None:
        self.feedback.reply_link_wait_s = seconds

    # Voice notes and uploads

    async def on_voice(self, user: User, where: Where, note: VoiceNote) -> Reply | None:
        """Analyse a recording; None means stay quiet (a group member who has not opted in).

        In a private chat with a practice session open, the recording is the attempt instead.
        """
        if where.is_group:
            return await self.notes.on_voice(user, where, note)
        turn = await self.practice.on_voice(user, where, note)
        if turn.reply is not None:
            return turn.reply
        reply = await self.notes.on_voice(user, where, note)
        if turn.notice and reply is not None:
            return replace(reply, text=f"{turn.notice}\n\n{reply.text}")
        return reply

    async def on_upload(
        self,
        note: VoiceNote,
        donor: User | None = None,
        *,
        keep_audio: bool = True,
        lang: str | None = None,
        face: bool = False,
    ) -> Heard:
        """A recording from outside any chat (the web page); kept only when donated or remembered.

        `keep_audio` False keeps the answer without the recording; `face` reads a video's face
        too (see Notes.on_upload).
        """
        return await self.notes.on_upload(note, donor, keep_audio=keep_audio, lang=lang, face=face)

    async def knows(self, user: User) -> bool:
        """Whether anything is stored about `user` (looked up, never created)."""
        return await self.chats.known_person(user) is not None

    async def words_of(self, user: User) -> dict[str, str]:
        """The user's own words for tones (/words); none for someone never stored."""
        return dict(await self.words.of(await self.chats.known_person(user)))

    # Practice from outside any chat (the web page's Practice tab), by the practising User

    async def practice_start(self, user: User, tone: str | None = None) -> PracticeRound:
        """A new practice round; the person is stored (starting is their opt-in to a score)."""
        return await self.practice.start(await self.chats.person(user), tone)

    async def practice_current(self, user: User) -> PracticeRound | None:
        """The round waiting for an attempt; None for a stranger or with no session open."""
        person = await self.chats.known_person(user)
        return await self.practice.current(person) if person is not None else None

    async def practice_hear(self, user: User, audio: bytes) -> PracticeAttempt:
        """Hear one attempt (never stored); NoPracticeRound without an open, unexpired round."""
        person = await self.chats.known_person(user)
        if person is None:
            raise NoPracticeRound("no practice round is open")
        return await self.practice.hear(person, audio)

    async def practice_stop(self, user: User) -> PracticeSummary | None:
        """End the session: its summary, or None when none was open."""
        person = await self.chats.known_person(user)
        return await self.practice.stop(person) if person is not None else None

    async def on_upload_vote(self, donor: User | None, note_id: int, label: str) -> UploadVote:
        return await self.feedback.on_upload_vote(donor, note_id, label)

    async def remember_reply(self, where: Where, note_id: int, reply_message_id: str) -> None:
        """Link the bot's answer message to its note, so reactions on it count as votes."""
        await self.notes.remember_reply(note_id, reply_message_id)

    # Buttons and reactions

    async def on_button(
        self, user: User, where: Where, data: str | ButtonAction, message_text: str = ""
    ) -> ButtonAnswer:
        """A tap on one of our buttons; `message_text` is the text of the message it sits under.

        The text is needed only for answers stored before their text was kept with the note.
        """
        person = await self.chats.person(user)
        chat = await self.chats.chat(where, person)
        lang = await self.chats.language(person, chat, user)
        action = ButtonAction.decode(data) if isinstance(data, str) else data
        if action is None:
            return ButtonAnswer(t(lang, "unknown_command"))
        if action.kind == "optin":
            return ButtonAnswer(await self.consent.opt_in(person, chat, user, lang))
        if action.kind == "forget":
            return await self.consent.on_forget_button(user, lang, action)
        if action.kind == "practice":
            if chat.kind == "group":
                return ButtonAnswer(t(lang, "private_only"))
            return await self.practice.on_button(person, lang, action, message_text)
        if action.kind == "music":
            return await self.music.on_button(person, chat, lang, action)
        return await self.feedback.on_vote_button(person, chat, lang, action, message_text)

    async def on_reaction(
        self, user: User, where: Where, reply_message_id: str, emoji: str
    ) -> bool:
        """A reaction on one of our answers; True when it was counted as a vote."""
        return await self.feedback.on_reaction(user, where, reply_message_id, emoji)

    async def on_reaction_removed(
        self, user: User, where: Where, reply_message_id: str, emoji: str
    ) -> bool:
        """A reaction taken off one of our answers withdraws the vote it made; True if it did."""
        return await self.feedback.on_reaction_removed(user, where, reply_message_id, emoji)

    # Commands

    async def on_command(
        self, user: User, where: Where, name: str, args: list[str], *, is_admin: bool = False
    ) -> Reply:
        """A command such as /summary week; `is_admin` is the platform's word on chat admins."""
        person = await self.chats.person(user)
        chat = await self.chats.chat(where, person)
        lang = await self.chats.language(person, chat, user)
        command = BY_NAME.get(name.lower().lstrip("/"))
        if command is None:
            return Reply(t(lang, "unknown_command"))
        words = [a.lower() for a in args]
        return await command.run(
            self, CommandContext(person, chat, user, where, lang, words, is_admin)
        )

    # Groups, forget-me, digests

    def group_intro(self, lang: str) -> Reply:
        return self.consent.group_intro(lang)

    async def on_group_joined(self, where: Where) -> Reply:
        """The intro for a group the bot was just added to, in the group's language."""
        return await self.consent.on_group_joined(where)

    async def on_chat_migrated(self, where: Where, new_chat_id: str) -> bool:
        return await self.chats.moved(where, new_chat_id)

    async def forget(self, user: User, lang: str) -> str:
        return await self.consent.forget(user, lang)

    async def due_digests(
        self,
        platform: str,
        now: datetime | None = None,
        owns: Callable[[Where], bool] | None = None,
    ) -> list[DueDigest]:
        """The platform's digests to post now, each handed out once (see bots.core.digests)."""
        return await self.digests.due(platform, now, owns)

    async def digest(self, due: DueDigest) -> Reply | None:
        """The digest's Reply; None when the day had no notes (then nothing is posted)."""
        return await self.digests.digest(due)
