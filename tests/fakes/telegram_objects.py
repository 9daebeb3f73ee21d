"""Bot API objects as the JSON dicts Telegram sends, with PTB 22's field names.

Kept apart from the server so a test can build users and chats without starting anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

JSON = dict[str, Any]

# ChatMember.status values, as the Bot API spells them (PTB's ChatMember.OWNER is "creator").
STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")

# Telegram makes a bot_command entity of every "/word" that starts the text or follows whitespace.
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def make_user(
    user_id: int,
    first_name: str = "Tester",
    *,
    username: str | None = None,
    language_code: str | None = "en",
    is_bot: bool = False,
) -> JSON:
    """A User as Telegram sends it in updates."""
    return _without_none(
        {
            "id": user_id,
            "is_bot": is_bot,
            "first_name": first_name,
            "username": username,
            "language_code": language_code,
        }
    )


def private_chat(user: JSON) -> JSON:
    """The private chat between the bot and `user` (its id is the user's id)."""
    return _without_none(
        {
            "id": user["id"],
            "type": "private",
            "first_name": user["first_name"],
            "username": user.get("username"),
        }
    )


def group_chat(
    chat_id: int = -1001234567890, title: str = "Test group", *, supergroup: bool = True
) -> JSON:
    """A group or supergroup chat (group ids are negative; supergroup ids start with -100)."""
    if chat_id >= 0:
        raise ValueError("group chat ids are negative")
    return {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}


def chat_member(user: JSON, status: str, **fields: Any) -> JSON:
    """A ChatMember of the given status with every field PTB 22 requires for it."""
    if status not in STATUSES:
        raise ValueError(f"unknown chat member status {status!r}; use one of {STATUSES}")
    return {"user": user, "status": status, **_MEMBER_DEFAULTS[status], **fields}


def command_entities(text: str) -> list[JSON]:
    """bot_command entities for `text`, with offsets in UTF-16 code units as the Bot API counts."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND.finditer(text)
    ]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: emoji outside the BMP count twice."""
    return len(text.encode("utf-16-le")) // 2


def emoji_reactions(emoji: str | Sequence[str] | None) -> list[JSON]:
    """ReactionTypeEmoji dicts: None is no reaction, a string one, a sequence several."""
    if emoji is None:
        return []
    if isinstance(emoji, str):
        emoji = [emoji]
    return [{"type": "emoji", "emoji": e} for e in emoji]


def _without_none(data: JSON) -> JSON:
    return {key: value for key, value in data.items() if value is not None}


_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": False,
}

_RESTRICTIONS = {
    "is_member": True,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_react_to_messages": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_edit_tag": False,
    "until_date": 0,
}

_MEMBER_DEFAULTS: dict[str, JSON] = {
    "creator": {"is_anonymous": False},
    "administrator": _ADMIN_RIGHTS,
    "member": {},
    "restricted": _RESTRICTIONS,
    "left": {},
    "kicked": {"until_date": 0},
}
