"""Consent and privacy: opting in per group, donating audio, the voice baseline, forget-me.

Each is its own opt-in, revocable at any time; withdrawing deletes what it allowed to keep.
"""

from __future__ import annotations

from dataclasses import replace

from bots.core.buttons import ButtonAction, forget_buttons, optin_buttons
from bots.core.chats import Chats
from bots.core.values import ButtonAnswer, CommandContext, Reply, User, Where
from bots.i18n import t
from inference.analysis import Analyzer
from inference.personal import MAX_CORRECTIONS
from storage.models import Chat, Person


class Consent:
    def __init__(self, chats: Chats, analyzer: Analyzer) -> None:
        self.chats, self.store, self.analyzer = chats, chats.store, analyzer

    def group_intro(self, lang: str) -> Reply:
        """The first message in a group: what the bot does, the opt-in button, the AI Act limit."""
        return Reply(t(lang, "group.intro"), optin_buttons(lang))

    async def on_group_joined(self, where: Where) -> Reply:
        chat = await self.chats.chat(where, None)
        return self.group_intro(await self.chats.chat_language(chat))

    async def opt_in(self, person: Person, chat: Chat, user: User, lang: str) -> str:
        """/optin or the intro's button: analyse this member's notes in this group."""
        if chat.kind != "group":
            return t(lang, "optin.private")
        await self.store.consent.give(person, "analyse", chat)
        if not (await self.chats.settings(chat)).analysis:
            return t(lang, "optin.off_in_chat")
        return t(lang, "optin.done", name=user.name)

    async def optin(self, ctx: CommandContext) -> Reply:
        return Reply(await self.opt_in(ctx.person, ctx.chat, ctx.user, ctx.lang))

    async def optout(self, ctx: CommandContext) -> Reply:
        if ctx.chat.kind != "group":
            return Reply(t(ctx.lang, "optin.private"))
        withdrawn = await self.store.consent.withdraw(ctx.person, "analyse", ctx.chat)
        key = "optout.done" if withdrawn else "optout.none"
        return Reply(t(ctx.lang, key, name=ctx.user.name))

    async def donate(self, ctx: CommandContext) -> Reply:
        """/donate on|off: keep my audio for retraining; off deletes what was kept."""
        if ctx.args[:1] == ["on"]:
            await self.store.consent.give(ctx.person, "donate_audio")
            return Reply(t(ctx.lang, "donate.on"))
        if ctx.args[:1] == ["off"]:
            kept = await self.store.notes.count_kept_audio(ctx.person)
            await self.store.consent.withdraw(ctx.person, "donate_audio")
            return Reply(t(ctx.lang, "donate.off", count=kept))
        return Reply(t(ctx.lang, "donate.usage"))

    async def baseline(self, ctx: CommandContext) -> Reply:
        """/baseline on|off, or alone: whether it is on and from how many notes it learned."""
        lang, person = ctx.lang, ctx.person
        if ctx.args[:1] == ["on"]:
            await self.store.baselines.give_consent(person)
            return Reply(t(lang, "baseline.on"))
        if ctx.args[:1] == ["off"]:
            await self.store.baselines.withdraw_consent(person)
            return Reply(t(lang, "baseline.off"))
        if ctx.args:
            return Reply(t(lang, "baseline.usage"))
        if await self.store.baselines.consent(person) is None:
            return Reply(t(lang, "baseline.status_off"))
        kept = await self.store.baselines.baseline(person, self.analyzer.worker.name)
        text = t(lang, "baseline.status_on", count=kept.count if kept else 0)
        taught = await self.store.corrections.corrections(
            person, self.analyzer.worker.name, MAX_CORRECTIONS
        )
        if taught:
            text += "\n" + t(lang, "baseline.corrections", count=len(taught))
        return Reply(text)

    async def ask_to_forget(self, ctx: CommandContext) -> Reply:
        """/forget: asks first; only the person who asked may confirm."""
        return Reply(t(ctx.lang, "forget.confirm"), forget_buttons(ctx.user.id, ctx.lang))

    async def on_forget_button(self, user: User, lang: str, action: ButtonAction) -> ButtonAnswer:
        if action.owner != user.id:
            return ButtonAnswer(t(lang, "forget.not_yours"))
        if not action.yes:
            return ButtonAnswer(t(lang, "forget.cancelled"), Reply(t(lang, "forget.cancelled")))
        text = await self.forget(user, lang)
        return ButtonAnswer(text, Reply(text))

    async def forget(self, user: User, lang: str) -> str:
        """Delete everything the person owns, in every chat; the sentence that says what went."""
        report = await self.store.privacy.forget(user.platform, user.id)
        if not report.found:
            return t(lang, "forget.nothing")
        return t(
            lang,
            "forget.done",
            notes=report.notes,
            votes=report.votes_cast,
            audio=report.audio_files,
        )

    async def analysis(self, ctx: CommandContext) -> Reply:
        """/analysis on|off: a group's admins switch analysis for the whole chat."""
        if ctx.chat.kind != "group":
            return Reply(t(ctx.lang, "groups_only"))
        if not ctx.is_admin:
            return Reply(t(ctx.lang, "admins_only"))
        if ctx.args[:1] not in (["on"], ["off"]):
            return Reply(t(ctx.lang, "analysis.usage"))
        settings = await self.chats.settings(ctx.chat)
        on = ctx.args[0] == "on"
        await self.store.settings.set(ctx.chat, replace(settings, analysis=on))
        return Reply(t(ctx.lang, "analysis.on" if on else "analysis.off"))
