"""A note's arrival: who sent it, where, and whether they may be analysed there, in one read.

Reached as `store.arrivals`. Every voice note starts with the same three steps
(`people.ensure_person`, `people.ensure_chat`, `consent.may_analyse`), which on PostgreSQL were
three trips to the server for every note. Once the person and the chat are known (every note
but a newcomer's first, a renamed person's, or one in a private chat nobody owns yet) one
statement answers all three with the same meaning, read from one snapshot; whatever must be
created, renamed or claimed goes through the three steps themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage import rows, values
from storage.consent import ConsentStore, allows_analysis
from storage.db import Db
from storage.models import CHAT_KINDS, Chat, ChatKind, Person
from storage.people import PeopleStore

# The person and the chat by their platform ids (either may be missing: NULL columns), and what
# allows_analysis reads, as consent's permissions query has it.
_ARRIVAL_SQL = f"""
    SELECT {rows.PERSON_COLUMNS}, {rows.CHAT_COLUMNS}, c.kind AS kind,
           COALESCE(s.analysis, 1) AS analysis,
           EXISTS (SELECT 1 FROM consents g WHERE g.person_id = p.id AND g.kind = 'analyse'
                   AND g.chat_id = c.id AND g.withdrawn_at IS NULL) AS analyse
    FROM (SELECT 1 AS here) AS here
    LEFT JOIN persons p ON p.platform = :platform AND p.platform_user_id = :user
    LEFT JOIN chats c ON c.platform = :platform AND c.platform_chat_id = :chat
    LEFT JOIN chat_settings s ON s.chat_id = c.id
"""


@dataclass(frozen=True)
class Arrival:
    """The stored person and chat behind a note, and whether the person may be analysed there."""

    person: Person
    chat: Chat
    may_analyse: bool


class ArrivalStore:
    def __init__(self, db: Db, people: PeopleStore, consent: ConsentStore) -> None:
        self._db, self._people, self._consent = db, people, consent

    async def arrive(
        self,
        platform: str,
        platform_user_id: str | int,
        platform_chat_id: str | int,
        kind: ChatKind,
        *,
        display_name: str | None = None,
    ) -> Arrival:
        """What ensure_person, ensure_chat (a private chat owned by the person) and may_analyse
        answer together, the person and chat created (or renamed, or claimed) as they would."""
        platform = values.platform(platform)
        user = values.platform_id(platform_user_id, "user id")
        chat_id = values.platform_id(platform_chat_id, "chat id")
        name = values.display_name(display_name)
        if kind not in CHAT_KINDS:
            raise ValueError(f"chat kind must be one of {CHAT_KINDS}, not {kind!r}")
        row = await self._db.read_one(
            _ARRIVAL_SQL, {"platform": platform, "user": user, "chat": chat_id}
        )
        assert row is not None  # one row always: the missing sides are NULL
        person = rows.person(row) if row["p_id"] is not None else None
        chat = rows.chat(row) if row["c_id"] is not None else None
        if (
            person is None
            or (name is not None and name != person.display_name)
            or chat is None
            or (kind == "private" and chat.owner_id is None)
        ):
            person = await self._people.ensure_person(platform, user, display_name=name)
            owner = person if kind == "private" else None
            chat = await self._people.ensure_chat(platform, chat_id, kind, owner=owner)
            return Arrival(person, chat, await self._consent.may_analyse(person, chat))
        if chat.kind != kind:
            raise ValueError(f"chat {chat.platform_chat_id} is a {chat.kind} chat, not {kind}")
        return Arrival(person, chat, allows_analysis(row))
