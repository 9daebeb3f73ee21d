"""A note's arrival: who sent it, where, whether they may be analysed there, and the choices
its answer follows (baseline on, the person's words for labels), in one read.

Reached as `store.arrivals`. Every voice note starts with the same steps
(`people.ensure_person`, `people.ensure_chat`, `consent.may_analyse`, `baselines.consent`,
`preferences.label_words`), which on PostgreSQL were five trips to the server for every note.
Once the person and the chat are known (every note but a newcomer's first, a renamed person's,
or one in a private chat nobody owns yet) one statement answers them all with the same meaning,
read from one snapshot; whatever must be created, renamed or claimed goes through the steps
themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage import rows, values
from storage.baselines import BaselineStore
from storage.consent import ConsentStore, allows_analysis
from storage.db import Db
from storage.models import CHAT_KINDS, Chat, ChatKind, Person
from storage.people import PeopleStore
from storage.preferences import PreferenceStore

# The person and the chat by their platform ids (either may be missing: NULL columns), what
# allows_analysis reads (as consent's permissions query has it), the baseline grant, and one row
# per word the person chose (none: one row, its word NULL).
_ARRIVAL_SQL = f"""
    SELECT {rows.PERSON_COLUMNS}, {rows.CHAT_COLUMNS}, c.kind AS kind,
           COALESCE(s.analysis, 1) AS analysis,
           EXISTS (SELECT 1 FROM consents g WHERE g.person_id = p.id AND g.kind = 'analyse'
                   AND g.chat_id = c.id AND g.withdrawn_at IS NULL) AS analyse,
           EXISTS (SELECT 1 FROM baseline_consents b WHERE b.person_id = p.id) AS baseline_on,
           w.label AS w_label, w.word AS w_word
    FROM (SELECT 1 AS here) AS here
    LEFT JOIN persons p ON p.platform = :platform AND p.platform_user_id = :user
    LEFT JOIN chats c ON c.platform = :platform AND c.platform_chat_id = :chat
    LEFT JOIN chat_settings s ON s.chat_id = c.id
    LEFT JOIN label_words w ON w.person_id = p.id
    ORDER BY w.label
"""


@dataclass(frozen=True)
class Arrival:
    """The stored person and chat behind a note, whether the person may be analysed there, and
    what their answer follows: their voice baseline switched on, their own words for labels."""

    person: Person
    chat: Chat
    may_analyse: bool
    baseline_on: bool
    label_words: dict[str, str]


class ArrivalStore:
    def __init__(
        self,
        db: Db,
        people: PeopleStore,
        consent: ConsentStore,
        baselines: BaselineStore,
        preferences: PreferenceStore,
    ) -> None:
        self._db, self._people, self._consent = db, people, consent
        self._baselines, self._preferences = baselines, preferences

    async def arrive(
        self,
        platform: str,
        platform_user_id: str | int,
        platform_chat_id: str | int,
        kind: ChatKind,
        *,
        display_name: str | None = None,
    ) -> Arrival:
        """What ensure_person, ensure_chat (a private chat owned by the person), may_analyse,
        baselines.consent and preferences.label_words answer together, the person and chat
        created (or renamed, or claimed) as they would."""
        platform = values.platform(platform)
        user = values.platform_id(platform_user_id, "user id")
        chat_id = values.platform_id(platform_chat_id, "chat id")
        name = values.display_name(display_name)
        if kind not in CHAT_KINDS:
            raise ValueError(f"chat kind must be one of {CHAT_KINDS}, not {kind!r}")
        found = await self._db.read(
            _ARRIVAL_SQL, {"platform": platform, "user": user, "chat": chat_id}
        )
        row = found[0]  # one row at least: the missing sides are NULL
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
            return Arrival(
                person,
                chat,
                await self._consent.may_analyse(person, chat),
                await self._baselines.consent(person) is not None,
                await self._preferences.label_words(person),
            )
        if chat.kind != kind:
            raise ValueError(f"chat {chat.platform_chat_id} is a {chat.kind} chat, not {kind}")
        words = {str(r["w_label"]): str(r["w_word"]) for r in found if r["w_label"] is not None}
        return Arrival(person, chat, allows_analysis(row), bool(row["baseline_on"]), words)
