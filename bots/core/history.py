"""/history: a chart of the asker's own notes over a week or a month, sent only to them.

Only their own notes (Store.person_notes), in private chats only: a chart of one person's tones
is theirs, and a group would see it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bots.charts.history import render_history_chart
from bots.core.chats import Chats
from bots.core.values import CommandContext, Reply
from bots.core.words import Words
from bots.history import history_of, render_history_text
from bots.i18n import t

PERIOD_DAYS = {"week": 7, "month": 30}


class OwnHistory:
    def __init__(self, chats: Chats, words: Words) -> None:
        self.chats, self.store, self.words = chats, chats.store, words

    async def history_command(self, ctx: CommandContext) -> Reply:
        """/history [week|month] (a week by default)."""
        lang = ctx.lang
        if ctx.chat.kind == "group":
            return Reply(t(lang, "private_only"))
        period = ctx.args[0] if ctx.args else "week"
        if period not in PERIOD_DAYS:
            return Reply(t(lang, "history.usage"))
        today = datetime.now(UTC).date()
        first = today - timedelta(days=PERIOD_DAYS[period] - 1)
        since = datetime.combine(first, datetime.min.time(), UTC)
        notes = await self.store.notes.person_notes(ctx.person, since=since)
        # A vote corrects what the model said; the person's chart follows the correction.
        voted = await self.store.feedback.final_labels(n.id for n in notes)
        labelled = [(n.created_at, voted.get(n.id, n.label)) for n in notes]
        history = history_of(labelled, t(lang, f"history.period.{period}"), first, today)
        words = await self.words.of(ctx.person)
        text = render_history_text(history, lang, words)
        if history.count == 0:
            return Reply(text)
        # Drawing takes most of a second: off the event loop, so the bots keep answering.
        chart = await asyncio.to_thread(render_history_chart, history, lang, words)
        return Reply(text, photo=chart)
