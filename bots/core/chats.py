"""Who and where: the stored person and chat behind a User and a Where, and the language to use.

Every feature reaches people and chats through here, and reports storage failures to one
StorageHealth, so an outage is logged once however many features meet it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bots.core.values import User, Where
from bots.i18n import LANGUAGES
from storage.arrivals import Arrival
from storage.models import Chat, ChatKind, ChatSettings, Person
from storage.store import Store

log = logging.getLogger("bots.service")


@dataclass
class StorageHealth:
    """Whether storage failed last time; answers go on either way."""

    failed: bool = False

    def down(self) -> None:
        """Log a storage failure once (called inside its except block)."""
        if not self.failed:
            log.exception("storage failed; voice notes are answered without storing them")
        self.failed = True

    def up(self) -> None:
        """After a failure, note that storing works again, so the next failure is logged too."""
        if self.failed:
            log.info("storage works again; voice notes are stored again")
        self.failed = False


@dataclass
class Chats:
    store: Store
    default_language: str = "en"
    health: StorageHealth = field(default_factory=StorageHealth)

    async def person(self, user: User) -> Person:
        """The stored person, created (or renamed) from what the platform tells."""
        return await self.store.people.ensure_person(user.platform, user.id, display_name=user.name)

    async def arrive(self, user: User, where: Where) -> Arrival:
        """The person (created or renamed) and the chat a note comes from, and whether it may be
        analysed there: what person, chat and consent.may_analyse tell, in one read."""
        kind: ChatKind = "group" if where.is_group else "private"
        return await self.store.arrivals.arrive(
            user.platform, user.id, where.chat_id, kind, display_name=user.name
        )

    async def known_person(self, user: User) -> Person | None:
        """Looked up, never created: for events that must leave no trace of a stranger."""
        return await self.store.people.get_person(user.platform, user.id)

    async def chat(self, where: Where, person: Person | None) -> Chat:
        kind: ChatKind = "group" if where.is_group else "private"
        owner = person if kind == "private" else None
        return await self.store.people.ensure_chat(where.platform, where.chat_id, kind, owner=owner)

    async def set_language(self, person: Person, language: str) -> None:
        await self.store.people.set_language(person, language)

    async def settings(self, chat: Chat) -> ChatSettings:
        return await self.store.settings.get(chat)

    async def language(self, person: Person, chat: Chat, user: User) -> str:
        """The person's choice, else the chat's (groups), else the platform's hint, else default."""
        if person.language in LANGUAGES:
            return person.language
        if chat.kind == "group":
            settings = await self.store.settings.get(chat)
            if settings.language in LANGUAGES:
                return str(settings.language)
        return self.hinted_language(user)

    async def chat_language(self, chat: Chat) -> str:
        """The chat's own language, for messages to nobody in particular (intro, digest)."""
        return (await self.store.settings.get(chat)).language or self.default_language

    def hinted_language(self, user: User) -> str:
        """The platform's language hint when it is one we speak, else the default."""
        code = (user.language_code or "").lower()
        if code.startswith("ko"):
            return "ko"
        if code.startswith("en"):
            return "en"
        return self.default_language

    async def moved(self, where: Where, new_chat_id: str) -> bool:
        """The chat got a new platform id (a Telegram group became a supergroup); True if moved.

        Consent, notes, votes and settings go with it (see Store.move_chat).
        """
        moved = await self.store.people.move_chat(where.platform, where.chat_id, new_chat_id)
        if moved:
            log.info(
                "a %s chat moved to a new id; its consent and notes moved along", where.platform
            )
        return moved
