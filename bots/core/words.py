"""A person's own words for tones (/words angry tense): shown to them, never stored in place of a label.

Replies to their notes and their history chart use the words; the canonical label stays on
every note, so training, votes and group summaries never see them.
"""

from __future__ import annotations

from collections.abc import Mapping

from bots.core.chats import Chats
from bots.core.values import CommandContext, Reply
from bots.i18n import LABEL_NAMES, label_name, t
from inference.labels import CANONICAL_LABELS
from storage.errors import InvalidValue
from storage.models import Person
from storage.values import MAX_WORD_LENGTH


class Words:
    def __init__(self, chats: Chats) -> None:
        self.chats, self.store = chats, chats.store

    async def of(self, person: Person | None) -> Mapping[str, str]:
        """The person's words (label -> word); none for an unknown person or when storage fails."""
        if person is None:
            return {}
        try:
            return await self.store.preferences.label_words(person)
        except Exception:
            self.chats.health.down()
            return {}

    async def words_command(self, ctx: CommandContext) -> Reply:
        """/words <tone> <word>, /words (list them), /words reset."""
        lang, args, person = ctx.lang, ctx.args, ctx.person
        if ctx.chat.kind == "group":
            return Reply(t(lang, "private_only"))
        if not args:
            return Reply(await self._listed(person, lang))
        if args == ["reset"]:
            count = await self.store.preferences.reset_label_words(person)
            return Reply(t(lang, "words.reset", count=count))
        if len(args) < 2:
            return Reply(t(lang, "words.usage"))
        label = label_called(args[0])
        if label is None:
            labels = ", ".join(label_name(lang, known) for known in CANONICAL_LABELS)
            return Reply(t(lang, "words.bad_label", label=args[0], labels=labels))
        try:
            word = await self.store.preferences.set_label_word(person, label, " ".join(args[1:]))
        except InvalidValue:
            return Reply(t(lang, "words.bad_word", limit=MAX_WORD_LENGTH))
        return Reply(t(lang, "words.set", word=word, label=label_name(lang, label)))

    async def _listed(self, person: Person, lang: str) -> str:
        words = await self.store.preferences.label_words(person)
        if not words:
            return t(lang, "words.none")
        items = ", ".join(
            f"{label_name(lang, label)} → {words[label]}"
            for label in CANONICAL_LABELS
            if label in words
        )
        return t(lang, "words.list", items=items)


def label_called(name: str) -> str | None:
    """The canonical label a person named: its key ("angry") or its name in any language (화남)."""
    name = name.strip().lower()
    if name in CANONICAL_LABELS:
        return name
    for names in LABEL_NAMES.values():
        for label, shown in names.items():
            if shown.lower() == name and label in CANONICAL_LABELS:
                return label
    return None
