"""The platform-neutral VoiceMood service: everything a chat user can do, built once.

Adapters (Telegram, Discord, the web page) translate a platform event into one call here and
render the returned Reply (the web page: the returned Heard); they hold no product logic of their
own, and nothing is stored except through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Literal

from bots.i18n import EMOJI, LANGUAGES, label_name, t
from bots.replies import render_error, render_prediction
from bots.summary import MoodNote, render_chart, render_summary_text, summarise
from common.audio import DEFAULT_MAX_BYTES, megabytes
from inference.analysis import Analyzer
from inference.answer import Prediction
from inference.baseline import SpeakerBaseline
from inference.errors import TooLarge, VoiceMoodError
from inference.labels import CANONICAL_LABELS
from storage.errors import NotConsented, StorageError, StorageFull
from storage.models import Chat, ChatKind, ChatSettings, Person, StoredBaseline, StoredNote
from storage.store import Store

log = logging.getLogger(__name__)

# Labels a person can pick when correcting an answer ("other" is not a useful correction).
PICKABLE_LABELS = tuple(label for label in CANONICAL_LABELS if label != "other")

# Reactions on the bot's answer that count as a vote. 👍 confirms the answer; faces pick a label.
REACTION_LABELS = {
    "😐": "neutral",
    "😇": "calm",
    "🕊": "calm",
    "😁": "happy",
    "🥰": "happy",
    "😍": "happy",
    "🤩": "happy",
    "😊": "happy",
    "😢": "sad",
    "😭": "sad",
    "💔": "sad",
    "😡": "angry",
    "🤬": "angry",
    "😠": "angry",
    "😱": "fearful",
    "😨": "fearful",
    "🤮": "disgust",
    "🤢": "disgust",
    "🤯": "surprised",
    "😮": "surprised",
    "🥱": "bored",
    "😴": "bored",
}
CONFIRM_REACTIONS = frozenset({"👍", "👌", "💯"})

# The first pause before looking for an answer's link again; each next one doubles.
_FIRST_LINK_PAUSE_S = 0.02

# What became of a vote on an uploaded note (see VoiceMoodService.on_upload_vote).
UploadVote = Literal["counted", "refused", "storage_full"]

DEFAULT_DIGEST_TIME = time(20, 0)
MAX_SUMMARY_NOTES = 1000


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
    # At most 64 bytes: Telegram's callback-data limit.
    data: str


@dataclass(frozen=True)
class Reply:
    """What to send: text (the caption when there is a photo), optional buttons and PNG."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: bytes | None = None
    note_id: int | None = None


@dataclass(frozen=True)
class ButtonAnswer:
    """The short notice for the tapper, and how the message with the button should now read."""

    notice: str
    edit: Reply | None = None


@dataclass(frozen=True)
class VoiceNote:
    """A recording in a message; `fetch` downloads it only once the service decided to listen."""

    message_id: str
    fetch: Callable[[], Awaitable[bytes]]
    size: int | None = None
    suffix: str = "ogg"


@dataclass(frozen=True)
class UsualVoice:
    """A person's baseline as a note meets it: switched on or not, and what it learned so far."""

    on: bool
    # None while off, before the first note, or when only another model's statistics exist.
    baseline: SpeakerBaseline | None = None


@dataclass(frozen=True)
class Heard:
    """An analysed upload: the model's answer, and its stored note's id when one was kept."""

    prediction: Prediction
    note_id: int | None = None


@dataclass
class VoiceMoodService:
    analyzer: Analyzer
    store: Store
    default_language: str = "en"
    max_bytes: int = DEFAULT_MAX_BYTES
    # How long a reaction waits for its answer's link to be stored (see _answered_note).
    reply_link_wait_s: float = 1.0
    _storage_failed: bool = field(default=False, repr=False)

    # Voice notes

    async def on_voice(self, user: User, where: Where, note: VoiceNote) -> Reply | None:
        """Analyse a recording; None means stay quiet (a group member who has not opted in)."""
        if where.is_group:
            # Nothing is written about a member who never opted in, not even that they spoke.
            known = await self.store.get_person(user.platform, user.id)
            if known is None:
                return None
            if not await self.store.may_analyse(known, await self._chat(where, None)):
                return None
        try:
            person = await self._person(user)
            chat = await self._chat(where, person)
            lang = await self._language(person, chat, user)
            if not await self.store.may_analyse(person, chat):
                return None
        except Exception as error:
            self._storage_down()
            if where.is_group:
                return None  # consent cannot be checked, so a group note stays unheard
            # A private chat is consent enough (the sender asked): answer without storing.
            full = isinstance(error, StorageFull)
            return await self._answer(None, None, note, self._hinted_language(user), full=full)
        return await self._answer(person, chat, note, lang)

    async def _answer(
        self,
        person: Person | None,
        chat: Chat | None,
        note: VoiceNote,
        lang: str,
        *,
        full: bool = False,
    ) -> Reply:
        """Download, analyse and (when person and chat are known) store one note.

        `full`: the storage is already known to be full, so the answer says it was not saved.
        """
        try:
            try:
                data = await self._download(note)
            except VoiceMoodError:
                raise
            except Exception:
                log.warning("download of a voice note failed", exc_info=True)
                return Reply(t(lang, "download_failed"))
            usual = await self._usual_voice(person)
            prediction = await self.analyzer.analyse(data, baseline=usual.baseline)
        except VoiceMoodError as error:
            return Reply(render_error(error, lang))
        except Exception:
            # A model or worker failure is ours, not the sender's: log it, ask them to retry.
            log.exception("analysing a voice note failed unexpectedly")
            return Reply(t(lang, "error.error"))
        stored = None
        if person is not None and chat is not None:
            try:
                stored = await self._keep_note(person, chat, note, prediction, data)
            except StorageFull:
                full = True
        if person is not None and usual.on:
            await self._learn_voice(person, prediction)
        text = render_prediction(prediction, lang)
        if full:
            # The answer stands; the person should know it (and any donated audio) was not kept.
            return Reply(f"{text}\n\n{t(lang, 'error.storage_full')}")
        if stored is None:
            return Reply(text)
        return Reply(text, self._feedback_buttons(stored.id, lang), note_id=stored.id)

    async def on_upload(self, note: VoiceNote, donor: User | None = None) -> Heard:
        """A recording sent from outside any chat (the web page); nothing is kept unless donated.

        A donor's upload is their `/donate on` and their request to keep this recording: the note
        and its audio go to the donor's own private chat, so votes, export and forget-me treat it
        as any donated voice note. Errors a sender can cause are raised, for the caller to word.
        """
        data = await self._download(note)
        prediction = await self.analyzer.analyse(data)
        if donor is None:
            return Heard(prediction)
        # Only once analysed: an upload that cannot be analysed leaves no trace of its donor.
        try:
            person = await self._person(donor)
            chat = await self._chat(Where(donor.platform, donor.id, is_group=False), person)
            await self.store.give_consent(person, "donate_audio")
        except Exception:
            self._storage_down()
            return Heard(prediction)
        stored = await self._store_note(person, chat, note, prediction, data)
        return Heard(prediction, stored.id if stored is not None else None)

    async def on_upload_vote(self, donor: User | None, note_id: int, label: str) -> UploadVote:
        """A vote on an uploaded note, counted only from the note's own donor."""
        if donor is None or label not in PICKABLE_LABELS:
            return "refused"
        # Looked up, never created: a stranger's vote leaves nothing behind.
        person = await self.store.get_person(donor.platform, donor.id)
        if person is None:
            return "refused"
        try:
            note = await self.store.get_note(note_id)
            if note.person.id != person.id:
                return "refused"
            await self.store.vote(person, note.id, label)
        except StorageFull:
            # Not "that note is gone": it is there, only this vote could not be written.
            return "storage_full"
        except StorageError:
            return "refused"
        return "counted"

    async def _download(self, note: VoiceNote) -> bytes:
        """The recording's bytes, refused before downloading when it says it is too large."""
        if note.size is not None and note.size > self.max_bytes:
            raise TooLarge("too large", limit_mb=megabytes(self.max_bytes))
        return await note.fetch()

    async def remember_reply(self, where: Where, note_id: int, reply_message_id: str) -> None:
        """Link the bot's answer message to its note, so reactions on it count as votes."""
        try:
            await self.store.set_reply_message(note_id, reply_message_id)
        except StorageError:
            log.info("note %s vanished before its reply was linked", note_id)

    async def _store_note(
        self, person: Person, chat: Chat, note: VoiceNote, prediction: Prediction, data: bytes
    ) -> StoredNote | None:
        """Store the answer (and the audio only if donated); a storage failure never loses the reply."""
        with contextlib.suppress(StorageFull):
            return await self._keep_note(person, chat, note, prediction, data)
        return None

    async def _keep_note(
        self, person: Person, chat: Chat, note: VoiceNote, prediction: Prediction, data: bytes
    ) -> StoredNote | None:
        """As _store_note, except that a full storage raises StorageFull, for the reply to say so."""
        try:
            stored = await self.store.add_note(
                person,
                chat,
                message_id=note.message_id,
                duration_s=prediction.duration_s,
                model=prediction.model,
                label=prediction.label,
                confidence=prediction.confidence,
                probabilities=prediction.probabilities,
                audio=data,
                audio_suffix=note.suffix,
            )
        except NotConsented:
            return None
        except StorageFull:
            self._storage_down()
            raise
        except Exception:
            self._storage_down()
            return None
        self._storage_up()
        return stored

    async def _usual_voice(self, person: Person | None) -> UsualVoice:
        """Whether the person's baseline is on, and what it learned for the current model."""
        if person is None:
            return UsualVoice(on=False)
        try:
            if await self.store.baseline_consent(person) is None:
                return UsualVoice(on=False)
            kept = await self.store.baseline(person, self.analyzer.worker.name)
            if kept is None or kept.count == 0:
                return UsualVoice(on=True)
            # Inside the try: unreadable statistics must not cost the person their answer.
            return UsualVoice(True, SpeakerBaseline.from_bytes(kept.count, kept.stats))
        except Exception:
            self._storage_down()
            return UsualVoice(on=False)

    async def _learn_voice(self, person: Person, prediction: Prediction) -> None:
        """Fold the note's embedding (never its audio) into the person's baseline."""
        embedding = prediction.embedding
        if embedding is None:
            return  # this model does not embed: nothing to learn

        def updated(kept: StoredBaseline | None) -> StoredBaseline:
            # None, or another width: statistics of other numbers, so they start afresh.
            stats = (
                SpeakerBaseline.from_bytes(kept.count, kept.stats)
                if kept is not None and kept.dim == embedding.size
                else SpeakerBaseline.empty(embedding.size)
            ).updated(embedding)
            return StoredBaseline(prediction.model, stats.count, stats.dim, stats.to_bytes())

        try:
            await self.store.update_baseline(person, prediction.model, updated)
        except NotConsented:
            pass  # switched off (or forgotten) while the note was being analysed
        except Exception:
            self._storage_down()

    def _storage_down(self) -> None:
        """Log a storage failure once (called inside its except block); answers go on."""
        if not self._storage_failed:
            log.exception("storage failed; voice notes are answered without storing them")
        self._storage_failed = True

    def _storage_up(self) -> None:
        """After a failure, note that storing works again, so the next failure is logged too."""
        if self._storage_failed:
            log.info("storage works again; voice notes are stored again")
        self._storage_failed = False

    # Buttons and reactions

    async def on_button(
        self, user: User, where: Where, data: str, message_text: str = ""
    ) -> ButtonAnswer:
        """A tap on one of our buttons; `message_text` is the text of the message it sits under."""
        person = await self._person(user)
        chat = await self._chat(where, person)
        lang = await self._language(person, chat, user)
        kind, _, rest = data.partition(":")
        if kind == "ok":
            return await self._vote_from_button(person, chat, lang, rest, None, message_text)
        if kind == "pick":
            return ButtonAnswer(
                t(lang, "pick.prompt"),
                Reply(_base_text(message_text), self._label_buttons(int(rest), lang)),
            )
        if kind == "back":
            return ButtonAnswer(
                "", Reply(_base_text(message_text), self._feedback_buttons(int(rest), lang))
            )
        if kind == "lab":
            note_id, _, label = rest.partition(":")
            return await self._vote_from_button(person, chat, lang, note_id, label, message_text)
        if kind == "optin":
            return ButtonAnswer(await self._opt_in(person, chat, user, lang))
        if kind == "forget":
            return await self._forget_button(user, lang, rest)
        return ButtonAnswer(t(lang, "unknown_command"))

    async def on_reaction(
        self, user: User, where: Where, reply_message_id: str, emoji: str
    ) -> bool:
        """A reaction on one of our answers; True when it was counted as a vote."""
        if not _is_vote(emoji):
            return False
        person = await self._person(user)
        chat = await self._chat(where, person)
        note = await self._answered_note(chat, reply_message_id)
        if note is None:
            return False
        await self.store.vote(person, note.id, _voted_label(emoji, note))
        return True

    async def on_reaction_removed(
        self, user: User, where: Where, reply_message_id: str, emoji: str
    ) -> bool:
        """A reaction taken off one of our answers withdraws the vote it made; True if it did.

        Only a vote for the reaction's own label goes: a later, different vote stays.
        """
        if not _is_vote(emoji):
            return False
        # Nobody who was never seen can have voted: nothing is written about them now either.
        person = await self.store.get_person(user.platform, user.id)
        if person is None:
            return False
        chat = await self._chat(where, person)
        note = await self._answered_note(chat, reply_message_id)
        if note is None:
            return False
        return await self.store.unvote(person, note.id, _voted_label(emoji, note))

    async def _answered_note(self, chat: Chat, reply_message_id: str) -> StoredNote | None:
        """The note this answer of ours belongs to, waiting briefly for its link to be stored.

        Adapters link an answer to its note just after sending it, while updates are handled
        concurrently: a quick reaction can be handled before the link is stored.
        """
        deadline = asyncio.get_running_loop().time() + self.reply_link_wait_s
        pause = _FIRST_LINK_PAUSE_S
        while True:
            note = await self.store.find_note_by_reply(chat, reply_message_id)
            left = deadline - asyncio.get_running_loop().time()
            if note is not None or left <= 0:
                return note
            await asyncio.sleep(min(pause, left))
            pause *= 2

    async def _vote_from_button(
        self,
        voter: Person,
        chat: Chat,
        lang: str,
        note_ref: str,
        label: str | None,
        message_text: str,
    ) -> ButtonAnswer:
        try:
            note = await self.store.get_note(int(note_ref))
            if note.chat_id != chat.id:  # a button can only vote on a note of its own chat
                raise ValueError(note_ref)
            label = label or note.label
            if label not in PICKABLE_LABELS:
                raise ValueError(label)
            await self.store.vote(voter, note.id, label)
            votes = await self.store.votes(note.id)
        except StorageFull:
            return ButtonAnswer(t(lang, "error.storage_full"))
        except (StorageError, ValueError):
            return ButtonAnswer(t(lang, "vote.gone"))
        tally = Counter(v.label for v in votes)
        line = t(
            lang,
            "vote.tally",
            tally=", ".join(
                f"{EMOJI[k]} {label_name(lang, k)} ×{n}" for k, n in tally.most_common()
            ),
        )
        text = f"{_base_text(message_text)}\n\n{line}" if message_text else line
        return ButtonAnswer(
            t(lang, "vote.thanks", label=label_name(lang, label)),
            Reply(text, self._feedback_buttons(note.id, lang), note_id=note.id),
        )

    def _feedback_buttons(self, note_id: int, lang: str) -> tuple[tuple[Button, ...], ...]:
        return (
            (
                Button(t(lang, "button.right"), f"ok:{note_id}"),
                Button(t(lang, "button.wrong"), f"pick:{note_id}"),
            ),
        )

    def _label_buttons(self, note_id: int, lang: str) -> tuple[tuple[Button, ...], ...]:
        buttons = [
            Button(f"{EMOJI[label]} {label_name(lang, label)}", f"lab:{note_id}:{label}")
            for label in PICKABLE_LABELS
        ]
        rows = [tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3)]
        return (*rows, (Button(t(lang, "button.back"), f"back:{note_id}"),))

    # Commands

    async def on_command(
        self, user: User, where: Where, name: str, args: list[str], *, is_admin: bool = False
    ) -> Reply:
        """A command such as /summary week; `is_admin` is the platform's word on chat admins."""
        person = await self._person(user)
        chat = await self._chat(where, person)
        lang = await self._language(person, chat, user)
        handler = self._commands(where).get(name.lower().lstrip("/"))
        if handler is None:
            return Reply(t(lang, "unknown_command"))
        return await handler(person, chat, user, lang, [a.lower() for a in args], is_admin)

    def _commands(self, where: Where) -> dict[str, Callable[..., Awaitable[Reply]]]:
        return {
            "start": self._cmd_start,
            "help": self._cmd_help,
            "privacy": self._cmd_privacy,
            "optin": self._cmd_optin,
            "optout": self._cmd_optout,
            "donate": self._cmd_donate,
            "baseline": self._cmd_baseline,
            "forget": self._cmd_forget,
            "lang": self._cmd_lang,
            "summary": self._cmd_summary,
            # The digest is posted where it was switched on.
            "digest": partial(self._cmd_digest, channel=where.channel_id),
            "analysis": self._cmd_analysis,
        }

    async def _cmd_start(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        if chat.kind == "group":
            return self.group_intro(lang)
        return Reply(t(lang, "help"))

    async def _cmd_help(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        return Reply(t(lang, "help"))

    async def _cmd_privacy(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        return Reply(t(lang, "privacy"))

    async def _cmd_optin(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        return Reply(await self._opt_in(person, chat, user, lang))

    async def _cmd_optout(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        if chat.kind != "group":
            return Reply(t(lang, "optin.private"))
        withdrawn = await self.store.withdraw_consent(person, "analyse", chat)
        return Reply(t(lang, "optout.done" if withdrawn else "optout.none", name=user.name))

    async def _cmd_donate(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        if args[:1] == ["on"]:
            await self.store.give_consent(person, "donate_audio")
            return Reply(t(lang, "donate.on"))
        if args[:1] == ["off"]:
            kept = await self.store.count_kept_audio(person)
            await self.store.withdraw_consent(person, "donate_audio")
            return Reply(t(lang, "donate.off", count=kept))
        return Reply(t(lang, "donate.usage"))

    async def _cmd_baseline(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        if args[:1] == ["on"]:
            await self.store.give_baseline_consent(person)
            return Reply(t(lang, "baseline.on"))
        if args[:1] == ["off"]:
            await self.store.withdraw_baseline_consent(person)
            return Reply(t(lang, "baseline.off"))
        if args:
            return Reply(t(lang, "baseline.usage"))
        if await self.store.baseline_consent(person) is None:
            return Reply(t(lang, "baseline.status_off"))
        kept = await self.store.baseline(person, self.analyzer.worker.name)
        return Reply(t(lang, "baseline.status_on", count=kept.count if kept else 0))

    async def _cmd_forget(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        return Reply(
            t(lang, "forget.confirm"),
            (
                (
                    Button(t(lang, "button.forget_yes"), f"forget:yes:{user.id}"),
                    Button(t(lang, "button.cancel"), f"forget:no:{user.id}"),
                ),
            ),
        )

    async def _cmd_lang(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        if not args or args[0] not in LANGUAGES:
            return Reply(t(lang, "lang.usage"))
        await self.store.set_language(person, args[0])
        return Reply(t(args[0], "lang.done"))

    async def _cmd_summary(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        period = args[0] if args else "today"
        now = datetime.now(UTC)
        if period == "today":
            since, last, name = (
                datetime.combine(now.date(), time(0), UTC),
                None,
                t(lang, "summary.period.today"),
            )
        elif period == "week":
            since, last, name = now - timedelta(days=7), None, t(lang, "summary.period.week")
        elif period.isdigit() and 0 < int(period) <= MAX_SUMMARY_NOTES:
            since, last, name = None, int(period), t(lang, "summary.period.last", n=int(period))
        else:
            return Reply(t(lang, "summary.usage"))
        return await self.summary(chat, lang, name, since=since, last=last)

    async def _cmd_digest(self, person, chat, user, lang, args, is_admin, channel) -> Reply:  # type: ignore[no-untyped-def]
        if chat.kind == "group" and not is_admin:
            return Reply(t(lang, "admins_only"))
        settings = await self.store.chat_settings(chat)
        if args[:1] == ["on"]:
            at = _parse_time(args[1]) if len(args) > 1 else None
            if len(args) > 1 and at is None:
                return Reply(t(lang, "digest.usage"))
            at = at or settings.digest_time or DEFAULT_DIGEST_TIME
            on = replace(settings, digest=True, digest_time=at, digest_channel=channel)
            await self.store.set_chat_settings(chat, on)
            return Reply(t(lang, "digest.on", time=at.strftime("%H:%M")))
        if args[:1] == ["off"]:
            await self.store.set_chat_settings(chat, replace(settings, digest=False))
            return Reply(t(lang, "digest.off"))
        return Reply(t(lang, "digest.usage"))

    async def _cmd_analysis(self, person, chat, user, lang, args, is_admin) -> Reply:  # type: ignore[no-untyped-def]
        if chat.kind != "group":
            return Reply(t(lang, "groups_only"))
        if not is_admin:
            return Reply(t(lang, "admins_only"))
        if args[:1] not in (["on"], ["off"]):
            return Reply(t(lang, "analysis.usage"))
        settings = await self.store.chat_settings(chat)
        on = args[0] == "on"
        await self.store.set_chat_settings(chat, replace(settings, analysis=on))
        return Reply(t(lang, "analysis.on" if on else "analysis.off"))

    # Groups, summaries, digests

    def group_intro(self, lang: str) -> Reply:
        """The first message in a group: what the bot does, the opt-in button, the AI Act limit."""
        return Reply(t(lang, "group.intro"), ((Button(t(lang, "button.optin"), "optin"),),))

    async def on_chat_migrated(self, where: Where, new_chat_id: str) -> bool:
        """The chat got a new platform id (a Telegram group became a supergroup); True if moved.

        Consent, notes, votes and settings go with it (see Store.move_chat).
        """
        moved = await self.store.move_chat(where.platform, where.chat_id, new_chat_id)
        if moved:
            log.info(
                "a %s chat moved to a new id; its consent and notes moved along", where.platform
            )
        return moved

    async def on_group_joined(self, where: Where) -> Reply:
        chat = await self._chat(where, None)
        settings = await self.store.chat_settings(chat)
        return self.group_intro(settings.language or self.default_language)

    async def summary(
        self,
        chat: Chat,
        lang: str,
        period_name: str,
        *,
        since: datetime | None = None,
        last: int | None = None,
    ) -> Reply:
        """The chat's mood over a period: text, plus the chart when there is anything to draw."""
        notes = await self.store.chat_notes(chat, since=since, last=last)
        summary = summarise([_mood_note(n) for n in notes], period_name)
        text = render_summary_text(summary, lang)
        if summary.count == 0:
            return Reply(text)
        # Drawing takes most of a second: off the event loop, so the bots keep answering.
        return Reply(text, photo=await asyncio.to_thread(render_chart, summary, lang))

    async def digest(self, chat: Chat) -> Reply | None:
        """The daily digest for a chat that asked for one; None when the day had no notes."""
        settings = await self.store.chat_settings(chat)
        lang = settings.language or self.default_language
        since = datetime.now(UTC) - timedelta(days=1)
        reply = await self.summary(chat, lang, t(lang, "summary.period.today"), since=since)
        return reply if reply.photo is not None else None

    # Consent helpers

    async def _opt_in(self, person: Person, chat: Chat, user: User, lang: str) -> str:
        if chat.kind != "group":
            return t(lang, "optin.private")
        await self.store.give_consent(person, "analyse", chat)
        if not (await self.store.chat_settings(chat)).analysis:
            return t(lang, "optin.off_in_chat")
        return t(lang, "optin.done", name=user.name)

    async def _forget_button(self, user: User, lang: str, rest: str) -> ButtonAnswer:
        answer, _, owner = rest.partition(":")
        if owner != user.id:
            return ButtonAnswer(t(lang, "forget.not_yours"))
        if answer != "yes":
            return ButtonAnswer(t(lang, "forget.cancelled"), Reply(t(lang, "forget.cancelled")))
        text = await self.forget(user, lang)
        return ButtonAnswer(text, Reply(text))

    async def forget(self, user: User, lang: str) -> str:
        """Delete everything the person owns, in every chat; the sentence that says what went."""
        report = await self.store.forget_person(user.platform, user.id)
        if not report.found:
            return t(lang, "forget.nothing")
        return t(
            lang,
            "forget.done",
            notes=report.notes,
            votes=report.votes_cast,
            audio=report.audio_files,
        )

    # People, chats and languages

    async def _person(self, user: User) -> Person:
        return await self.store.ensure_person(user.platform, user.id, display_name=user.name)

    async def _chat(self, where: Where, person: Person | None) -> Chat:
        kind: ChatKind = "group" if where.is_group else "private"
        owner = person if kind == "private" else None
        return await self.store.ensure_chat(where.platform, where.chat_id, kind, owner=owner)

    async def _language(self, person: Person, chat: Chat, user: User) -> str:
        """The person's choice, else the chat's (groups), else the platform's hint, else default."""
        if person.language in LANGUAGES:
            return person.language
        if chat.kind == "group":
            settings: ChatSettings = await self.store.chat_settings(chat)
            if settings.language in LANGUAGES:
                return str(settings.language)
        return self._hinted_language(user)

    def _hinted_language(self, user: User) -> str:
        """The platform's language hint when it is one we speak, else the default."""
        if user.language_code and user.language_code.lower().startswith("ko"):
            return "ko"
        if user.language_code and user.language_code.lower().startswith("en"):
            return "en"
        return self.default_language


def _is_vote(emoji: str) -> bool:
    """Whether a reaction is a vote: a face that names a label, or a confirming 👍."""
    return _face_label(emoji) is not None or emoji in CONFIRM_REACTIONS


def _voted_label(emoji: str, note: StoredNote) -> str:
    """The label a vote reaction stands for: its face's, or the note's own for a confirmation."""
    return _face_label(emoji) or note.label


def _face_label(emoji: str) -> str | None:
    # Clients add or drop the emoji variation selector (U+FE0F) on the same face.
    return REACTION_LABELS.get(emoji.replace("\ufe0f", ""))


def _mood_note(note: StoredNote) -> MoodNote:
    name = note.person.display_name or f"#{note.person.id}"
    return MoodNote(note.created_at, name, note.label, note.probabilities)


def _base_text(message_text: str) -> str:
    """The answer without an earlier vote tally, which is replaced rather than stacked."""
    return message_text.split("\n\n🗳", 1)[0]


def _parse_time(text: str) -> time | None:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
    return time(int(match[1]), int(match[2])) if match else None
