"""Votes on answers: the buttons under them, reactions on them, and votes on web uploads.

Several people may vote on one note (in groups); the message under the buttons then shows the
tally, which replaces an earlier tally rather than stacking under it. The edited message is
rendered from data: the answer's text kept with its note, then the tally of its votes.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from bots.core.buttons import PICKABLE_LABELS, ButtonAction, feedback_buttons, label_buttons
from bots.core.chats import Chats
from bots.core.values import ButtonAnswer, Reply, UploadVote, User, Where
from bots.i18n import EMOJI, label_name, t
from storage.errors import StorageError, StorageFull
from storage.models import Chat, Person, StoredNote, Vote

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
# The vote tally follows the answer after a blank line and starts with this mark.
TALLY_MARK = "\n\n🗳"

# The first pause before looking for an answer's link again; each next one doubles.
_FIRST_LINK_PAUSE_S = 0.02


class Feedback:
    def __init__(self, chats: Chats, reply_link_wait_s: float = 1.0) -> None:
        self.chats, self.store = chats, chats.store
        # How long a reaction waits for its answer's link to be stored (see _answered_note).
        self.reply_link_wait_s = reply_link_wait_s

    async def on_vote_button(
        self, person: Person, chat: Chat, lang: str, action: ButtonAction, message_text: str
    ) -> ButtonAnswer:
        """ok / pick / back / lab: vote, or switch the buttons between answer and label picker.

        `message_text` is read only for answers stored before their text was kept with the note.
        """
        note_id = action.note_id
        assert note_id is not None
        if action.kind == "pick":
            answer = await self._answer_of(chat, note_id, message_text)
            return ButtonAnswer(t(lang, "pick.prompt"), Reply(answer, label_buttons(note_id, lang)))
        if action.kind == "back":
            answer = await self._answer_of(chat, note_id, message_text)
            return ButtonAnswer("", Reply(answer, feedback_buttons(note_id, lang)))
        return await self._vote(person, chat, lang, action, message_text)

    async def _vote(
        self, voter: Person, chat: Chat, lang: str, action: ButtonAction, message_text: str
    ) -> ButtonAnswer:
        assert action.note_id is not None
        try:
            note = await self.store.notes.get(action.note_id)
            if note.chat_id != chat.id:  # a button can only vote on a note of its own chat
                return ButtonAnswer(t(lang, "vote.gone"))
            label = action.label or note.label
            if label not in PICKABLE_LABELS:
                return ButtonAnswer(t(lang, "vote.gone"))
            await self.store.feedback.vote(voter, note.id, label)
            votes = await self.store.feedback.votes(note.id)
        except StorageFull:
            return ButtonAnswer(t(lang, "error.storage_full"))
        except StorageError:
            return ButtonAnswer(t(lang, "vote.gone"))
        line = _tally(votes, lang)
        answer = note.answer_text or _legacy_answer_text(message_text)
        text = f"{answer}\n\n{line}" if answer else line
        return ButtonAnswer(
            t(lang, "vote.thanks", label=label_name(lang, label)),
            Reply(text, feedback_buttons(note.id, lang), note_id=note.id),
        )

    async def on_reaction(
        self, user: User, where: Where, reply_message_id: str, emoji: str
    ) -> bool:
        """A reaction on one of our answers; True when it was counted as a vote."""
        if not _is_vote(emoji):
            return False
        person = await self.chats.person(user)
        chat = await self.chats.chat(where, person)
        note = await self._answered_note(chat, reply_message_id)
        if note is None:
            return False
        await self.store.feedback.vote(person, note.id, _voted_label(emoji, note))
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
        person = await self.chats.known_person(user)
        if person is None:
            return False
        chat = await self.chats.chat(where, person)
        note = await self._answered_note(chat, reply_message_id)
        if note is None:
            return False
        return await self.store.feedback.unvote(person, note.id, _voted_label(emoji, note))

    async def on_upload_vote(self, donor: User | None, note_id: int, label: str) -> UploadVote:
        """A vote on an uploaded note, counted only from the note's own donor."""
        if donor is None or label not in PICKABLE_LABELS:
            return "refused"
        # Looked up, never created: a stranger's vote leaves nothing behind.
        person = await self.chats.known_person(donor)
        if person is None:
            return "refused"
        try:
            note = await self.store.notes.get(note_id)
            if note.person.id != person.id:
                return "refused"
            await self.store.feedback.vote(person, note.id, label)
        except StorageFull:
            # Not "that note is gone": it is there, only this vote could not be written.
            return "storage_full"
        except StorageError:
            return "refused"
        return "counted"

    async def _answer_of(self, chat: Chat, note_id: int, message_text: str) -> str:
        """The answer's text as sent with the note (a note of this chat only)."""
        try:
            note = await self.store.notes.get(note_id)
        except StorageError:
            note = None
        if note is not None and note.chat_id == chat.id and note.answer_text:
            return note.answer_text
        return _legacy_answer_text(message_text)

    async def _answered_note(self, chat: Chat, reply_message_id: str) -> StoredNote | None:
        """The note this answer of ours belongs to, waiting briefly for its link to be stored.

        Adapters link an answer to its note just after sending it, while updates are handled
        concurrently: a quick reaction can be handled before the link is stored.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reply_link_wait_s
        pause = _FIRST_LINK_PAUSE_S
        while True:
            note = await self.store.notes.find_by_reply(chat, reply_message_id)
            left = deadline - loop.time()
            if note is not None or left <= 0:
                return note
            await asyncio.sleep(min(pause, left))
            pause *= 2


def _tally(votes: list[Vote], lang: str) -> str:
    tally = Counter(v.label for v in votes)
    counts = ", ".join(f"{EMOJI[k]} {label_name(lang, k)} ×{n}" for k, n in tally.most_common())
    return t(lang, "vote.tally", tally=counts)


def _legacy_answer_text(message_text: str) -> str:
    """The answer in a message whose note kept no text (stored before schema step 5).

    Such a message is the only copy of its answer: taken without an earlier tally.
    """
    return message_text.split(TALLY_MARK, 1)[0]


def _is_vote(emoji: str) -> bool:
    """Whether a reaction is a vote: a face that names a label, or a confirming 👍."""
    return _face_label(emoji) is not None or emoji in CONFIRM_REACTIONS


def _voted_label(emoji: str, note: StoredNote) -> str:
    """The label a vote reaction stands for: its face's, or the note's own for a confirmation."""
    return _face_label(emoji) or note.label


def _face_label(emoji: str) -> str | None:
    # Clients add or drop the emoji variation selector (U+FE0F) on the same face.
    return REACTION_LABELS.get(emoji.replace("\ufe0f", ""))
