"""People and chats, per platform, and a chat's move to a new platform id (move_chat).

Reached as `store.people`. `require_person` is the check other features run inside their own
write transactions.
"""

from __future__ import annotations

import time as clock
from dataclasses import replace

from storage import chat_settings, rows, values
from storage.backends import Transaction
from storage.db import Db
from storage.errors import ChatNotFound, PersonNotFound
from storage.models import CHAT_KINDS, Chat, ChatKind, Person

_PERSON_BY_PLATFORM_ID_SQL = (
    f"SELECT {rows.PERSON_COLUMNS} FROM persons p WHERE p.platform = ? AND p.platform_user_id = ?"
)
_CHAT_BY_PLATFORM_ID_SQL = (
    f"SELECT {rows.CHAT_COLUMNS} FROM chats c WHERE c.platform = ? AND c.platform_chat_id = ?"
)
# The chats the person owns (private chats) or has notes or grants in.
_CHATS_OF_PERSON_SQL = f"""
    SELECT {rows.CHAT_COLUMNS} FROM chats c
    WHERE c.owner_id = :person
       OR c.id IN (SELECT chat_id FROM notes WHERE person_id = :person)
       OR c.id IN (SELECT chat_id FROM consents WHERE person_id = :person)
    ORDER BY c.id
"""
# move_chat: a moved chat's notes keep their message ids, qualified by the chat they came from
# (a NULL reply id stays NULL).
_QUALIFY_MESSAGE_IDS_SQL = """
    UPDATE notes SET platform_message_id = CAST(:prefix AS TEXT) || ':' || platform_message_id,
                     reply_message_id = CAST(:prefix AS TEXT) || ':' || reply_message_id
    WHERE chat_id = :chat
"""
# move_chat folding chat :source into :target: a grant of :target still in force ends when the
# same person first decided again in :source, whose decisions are the later ones.
_END_GRANTS_DECIDED_AGAIN_SQL = """
    UPDATE consents AS c SET withdrawn_at = (
        SELECT CASE WHEN MIN(s.given_at) > c.given_at THEN MIN(s.given_at) ELSE c.given_at END
        FROM consents s
        WHERE s.chat_id = :source AND s.person_id = c.person_id AND s.kind = c.kind)
    WHERE c.chat_id = :target AND c.withdrawn_at IS NULL AND EXISTS (
        SELECT 1 FROM consents s
        WHERE s.chat_id = :source AND s.person_id = c.person_id AND s.kind = c.kind)
"""


class PeopleStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def ensure_person(
        self, platform: str, platform_user_id: str | int, *, display_name: str | None = None
    ) -> Person:
        """The person with this platform id, created on first sight; a new display name is kept."""
        platform, user = values.platform(platform), values.platform_id(platform_user_id, "user id")
        name = values.display_name(display_name)
        found = await self.get_person(platform, user)
        if found is not None and (name is None or name == found.display_name):
            return found
        # Row-safe (storage.db): the platform id's unique key and ON CONFLICT.
        async with self._db.write(row_safe=True) as db:
            await db.execute(
                "INSERT INTO persons (platform, platform_user_id, display_name, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (platform, platform_user_id) DO UPDATE SET"
                " display_name = COALESCE(excluded.display_name, persons.display_name)",
                (platform, user, name, clock.time()),
            )
            row = await db.fetchone(_PERSON_BY_PLATFORM_ID_SQL, (platform, user))
        assert row is not None
        return rows.person(row)

    async def get_person(self, platform: str, platform_user_id: str | int) -> Person | None:
        row = await self._db.read_one(
            _PERSON_BY_PLATFORM_ID_SQL,
            (values.platform(platform), values.platform_id(platform_user_id, "user id")),
        )
        return rows.person(row) if row is not None else None

    async def set_language(self, person: Person, language: str | None) -> Person:
        """Remember the language a person wants replies in (None: follow the chat)."""
        language = values.language(language)
        async with self._db.write() as db:
            changed = await db.execute(
                "UPDATE persons SET language = ? WHERE id = ?", (language, person.id)
            )
            if changed == 0:
                raise PersonNotFound("That person is not known (any more).", person_id=person.id)
        return replace(person, language=language)

    async def ensure_chat(
        self,
        platform: str,
        platform_chat_id: str | int,
        kind: ChatKind,
        *,
        owner: Person | None = None,
    ) -> Chat:
        """The chat with this platform id, created on first sight; `owner` only for private chats.

        A private chat belongs to its one human, so "forget me" deletes it (its id is often theirs).
        """
        platform, chat_id = (
            values.platform(platform),
            values.platform_id(platform_chat_id, "chat id"),
        )
        if kind not in CHAT_KINDS:
            raise ValueError(f"chat kind must be one of {CHAT_KINDS}, not {kind!r}")
        if owner is not None and kind != "private":
            raise ValueError("only a private chat has an owner")
        found = await self._find_chat(platform, chat_id)
        if found is not None and (owner is None or found.owner_id is not None):
            return _same_kind(found, kind)
        # Row-safe: the unique key, ON CONFLICT, and a claim whose WHERE PostgreSQL re-checks.
        async with self._db.write(row_safe=True) as db:
            await db.execute(
                "INSERT INTO chats (platform, platform_chat_id, kind, owner_id, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (platform, chat_id, kind, owner.id if owner else None, clock.time()),
            )
            found = await _chat_row(db, platform, chat_id)
            assert found is not None
            if owner is not None and await claim_private_chat(db, found.id, owner):
                found = replace(found, owner_id=owner.id)
        return _same_kind(found, kind)

    async def get_chat(self, chat_id: int) -> Chat:
        row = await self._db.read_one(
            f"SELECT {rows.CHAT_COLUMNS} FROM chats c WHERE c.id = ?", (chat_id,)
        )
        if row is None:
            raise ChatNotFound("That chat is not known.", chat_id=chat_id)
        return rows.chat(row)

    async def find_chat(self, platform: str, platform_chat_id: str | int) -> Chat | None:
        """The chat with this platform id, if known (never creates one)."""
        return await self._find_chat(
            values.platform(platform), values.platform_id(platform_chat_id, "chat id")
        )

    async def chats_of(self, person: Person) -> list[Chat]:
        """The chats the person owns or has notes or grants in (for their own copy)."""
        records = await self._db.read(_CHATS_OF_PERSON_SQL, {"person": person.id})
        return [rows.chat(row) for row in records]

    async def move_chat(
        self, platform: str, old_platform_chat_id: str | int, new_platform_chat_id: str | int
    ) -> bool:
        """Give a chat a new platform id (a Telegram group upgraded to a supergroup); True if moved.

        The chat keeps its own id, so its consent, notes, votes and settings stay with it. Its
        notes' message ids become `<old chat id>:<message id>`: the new chat numbers its messages
        afresh, and a new message must never land on an old note. If the new id is already known
        (something from it arrived first), that chat is folded in: its notes move over; per person,
        its consent decisions are the later ones and hold (an older grant still in force ends at
        the first of them); its settings win where they differ from the defaults, except that
        analysis stays off if either chat switched it off. False when the old id is unknown.
        """
        platform = values.platform(platform)
        old_id = values.platform_id(old_platform_chat_id, "chat id")
        new_id = values.platform_id(new_platform_chat_id, "chat id")
        if old_id == new_id:
            return False
        async with self._db.write() as db:
            # Read inside the transaction: both of Telegram's migration messages may race here.
            old = await _chat_row(db, platform, old_id)
            if old is None:
                return False
            new = await _chat_row(db, platform, new_id)
            if new is not None and new.kind != old.kind:
                raise ValueError(f"cannot merge a {old.kind} chat into a {new.kind} chat")
            await db.execute(_QUALIFY_MESSAGE_IDS_SQL, {"chat": old.id, "prefix": old_id})
            if new is not None:
                await _fold_chat_into(db, new.id, old.id)
            await db.execute("UPDATE chats SET platform_chat_id = ? WHERE id = ?", (new_id, old.id))
        return True

    async def _find_chat(self, platform: str, platform_chat_id: str) -> Chat | None:
        row = await self._db.read_one(_CHAT_BY_PLATFORM_ID_SQL, (platform, platform_chat_id))
        return rows.chat(row) if row is not None else None


async def require_person(db: Transaction, person: Person) -> None:
    """PersonNotFound unless the person still exists (checked inside the caller's transaction)."""
    if await db.fetchone("SELECT 1 FROM persons WHERE id = ?", (person.id,)) is None:
        raise PersonNotFound("That person is not known (any more).", person_id=person.id)


async def claim_private_chat(db: Transaction, chat_id: int, owner: Person) -> bool:
    """Make `owner` the owner of a private chat that has none yet; True if they became it."""
    changed = await db.execute(
        "UPDATE chats SET owner_id = ? WHERE id = ? AND kind = 'private' AND owner_id IS NULL",
        (owner.id, chat_id),
    )
    return changed == 1


async def find_person_id(db: Transaction, platform: str, platform_user_id: str) -> int | None:
    """The person's storage id, read inside the caller's transaction (None: not known)."""
    row = await db.fetchone(_PERSON_BY_PLATFORM_ID_SQL, (platform, platform_user_id))
    return int(row["p_id"]) if row is not None else None


async def _chat_row(db: Transaction, platform: str, platform_chat_id: str) -> Chat | None:
    row = await db.fetchone(_CHAT_BY_PLATFORM_ID_SQL, (platform, platform_chat_id))
    return rows.chat(row) if row is not None else None


async def _fold_chat_into(db: Transaction, source: int, target: int) -> None:
    """Move every row of chat `source` to chat `target` and delete `source` (see move_chat)."""
    ids = {"source": source, "target": target}
    await db.execute(_END_GRANTS_DECIDED_AGAIN_SQL, ids)
    await db.execute("UPDATE consents SET chat_id = :target WHERE chat_id = :source", ids)
    await db.execute("UPDATE notes SET chat_id = :target WHERE chat_id = :source", ids)
    await chat_settings.fold_settings(db, source, target)
    # Only its settings row still refers to it, merged above and deleted with it by the cascade.
    await db.execute("DELETE FROM chats WHERE id = :source", ids)


def _same_kind(chat: Chat, kind: str) -> Chat:
    if chat.kind != kind:
        raise ValueError(f"chat {chat.platform_chat_id} is a {chat.kind} chat, not {kind}")
    return chat
