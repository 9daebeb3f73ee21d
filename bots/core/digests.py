"""Summaries and daily digests: a chat's mood over a period, and which digests are due now.

When a digest is due is decided here once, for every platform's scheduler: at its time (UTC) or
up to CATCH_UP later (a busy loop, a restart), and at most once a day. The day is claimed in
storage (Store.claim_digest) before the digest is handed out, so a restarted process, or a second
one over the same file, never posts that day's digest again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from bots.charts.summary import render_chart
from bots.core.chats import Chats
from bots.core.music import song_name
from bots.core.values import CommandContext, Reply, Where
from bots.i18n import t
from bots.summary import MoodNote, render_summary_text, summarise
from inference.music import suggest
from storage.models import Chat, StoredNote

DEFAULT_DIGEST_TIME = time(20, 0)
# A digest missed by less than this (a busy loop, a restart) is still posted that day.
CATCH_UP = timedelta(minutes=10)
MAX_SUMMARY_NOTES = 1000


@dataclass(frozen=True)
class DueDigest:
    """A digest to post now, already claimed for its day: post it, or it is skipped that day.

    `where.channel_id` is the channel /digest was switched on in, where a chat has several.
    """

    where: Where
    day: date
    # Storage's id of the chat: for logs, and for Digests.digest to find it again.
    chat_id: int


class Digests:
    def __init__(self, chats: Chats) -> None:
        self.chats, self.store = chats, chats.store

    async def due(
        self,
        platform: str,
        now: datetime | None = None,
        owns: Callable[[Where], bool] | None = None,
    ) -> list[DueDigest]:
        """The platform's digests due at `now`, each claimed in storage so it goes out once a day.

        `owns` keeps to the chats this process can post in (a Discord shard group its servers);
        the others are left unclaimed for the process that owns them.
        """
        now = now or datetime.now(UTC)
        due = []
        for scheduled in await self.store.settings.scheduled_digests():
            chat, settings = scheduled.chat, scheduled.settings
            if chat.platform != platform:
                continue
            at = last_occurrence(settings.digest_time or DEFAULT_DIGEST_TIME, now)
            if now - at > CATCH_UP:
                continue
            is_group = chat.kind == "group"
            where = Where(platform, chat.platform_chat_id, is_group, settings.digest_channel)
            if owns is not None and not owns(where):
                continue
            if await self.store.settings.claim_digest(chat, at.date()):
                due.append(DueDigest(where, at.date(), chat.id))
        return due

    async def digest(self, due: DueDigest) -> Reply | None:
        """The daily digest for a chat that asked for one; None when the day had no notes."""
        chat = await self.store.people.get_chat(due.chat_id)
        lang = await self.chats.chat_language(chat)
        since = datetime.now(UTC) - timedelta(days=1)
        reply = await self.summary(chat, lang, t(lang, "summary.period.today"), since=since)
        return reply if reply.photo is not None else None

    async def summary(
        self,
        chat: Chat,
        lang: str,
        period_name: str,
        *,
        since: datetime | None = None,
        last: int | None = None,
        song: bool = False,
    ) -> Reply:
        """The chat's mood over a period: text, plus the chart when there is anything to draw.

        `song`: the text ends with one song near the period's mood (a group's week).
        """
        notes = await self.store.notes.chat_notes(chat, since=since, last=last)
        summary = summarise([_mood_note(n) for n in notes], period_name)
        text = render_summary_text(summary, lang)
        if summary.count == 0:
            return Reply(text)
        if song:
            (picked,) = suggest((summary.valence, summary.arousal), count=1)
            text += "\n" + t(lang, "music.week", name=song_name(picked, lang), link=picked.link)
        # Drawing takes most of a second: off the event loop, so the bots keep answering.
        return Reply(text, photo=await asyncio.to_thread(render_chart, summary, lang))

    async def summary_command(self, ctx: CommandContext) -> Reply:
        """/summary today|week|N."""
        lang, period = ctx.lang, ctx.args[0] if ctx.args else "today"
        now = datetime.now(UTC)
        if period == "today":
            since = datetime.combine(now.date(), time(0), UTC)
            return await self.summary(ctx.chat, lang, t(lang, "summary.period.today"), since=since)
        if period == "week":
            since = now - timedelta(days=7)
            name, group = t(lang, "summary.period.week"), ctx.chat.kind == "group"
            return await self.summary(ctx.chat, lang, name, since=since, song=group)
        if period.isdigit() and 0 < int(period) <= MAX_SUMMARY_NOTES:
            last = int(period)
            name = t(lang, "summary.period.last", n=last)
            return await self.summary(ctx.chat, lang, name, last=last)
        return Reply(t(lang, "summary.usage"))

    async def digest_command(self, ctx: CommandContext) -> Reply:
        """/digest on [HH:MM]|off; posted where it was switched on (the channel, on Discord)."""
        lang, args, chat = ctx.lang, ctx.args, ctx.chat
        if chat.kind == "group" and not ctx.is_admin:
            return Reply(t(lang, "admins_only"))
        settings = await self.chats.settings(chat)
        if args[:1] == ["on"]:
            at = _parse_time(args[1]) if len(args) > 1 else None
            if len(args) > 1 and at is None:
                return Reply(t(lang, "digest.usage"))
            at = at or settings.digest_time or DEFAULT_DIGEST_TIME
            channel = ctx.where.channel_id
            on = replace(settings, digest=True, digest_time=at, digest_channel=channel)
            await self.store.settings.set(chat, on)
            return Reply(t(lang, "digest.on", time=at.strftime("%H:%M")))
        if args[:1] == ["off"]:
            await self.store.settings.set(chat, replace(settings, digest=False))
            return Reply(t(lang, "digest.off"))
        return Reply(t(lang, "digest.usage"))


def last_occurrence(at: time, now: datetime) -> datetime:
    """The latest moment at or before `now` whose UTC clock reads `at`."""
    today = datetime.combine(now.date(), at.replace(tzinfo=None), UTC)
    return today if today <= now else today - timedelta(days=1)


def _mood_note(note: StoredNote) -> MoodNote:
    name = note.person.display_name or f"#{note.person.id}"
    return MoodNote(note.created_at, name, note.label, note.probabilities, note.model)


def _parse_time(text: str) -> time | None:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
    return time(int(match[1]), int(match[2])) if match else None
