"""The one table of commands: what each does, its arguments, and how platforms should offer it.

The help text, Telegram's command menu and Discord's slash commands are all generated from
COMMANDS. Adding a command is one entry here and one function (taking a CommandContext) in the
feature it belongs to, plus its help line in bots/i18n ("command.<name>").
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bots.core.chats import Chats
from bots.core.consent import Consent
from bots.core.digests import Digests
from bots.core.faces import Faces
from bots.core.history import OwnHistory
from bots.core.language_baseline import LanguageBaselines
from bots.core.music import Music
from bots.core.my_data import MyData
from bots.core.practice import PRACTICE_TONES, Practice
from bots.core.transcripts import Transcripts
from bots.core.values import CommandContext, Reply
from bots.core.words import Words
from bots.i18n import LANGUAGES, generated, t


class Features(Protocol):
    """The features a command may use (the service has them all)."""

    @property
    def chats(self) -> Chats: ...
    @property
    def consent(self) -> Consent: ...
    @property
    def digests(self) -> Digests: ...
    @property
    def history(self) -> OwnHistory: ...
    @property
    def my_data(self) -> MyData: ...
    @property
    def words(self) -> Words: ...
    @property
    def transcripts(self) -> Transcripts: ...
    @property
    def practice(self) -> Practice: ...
    @property
    def faces(self) -> Faces: ...
    @property
    def music(self) -> Music: ...
    @property
    def languages(self) -> LanguageBaselines: ...


Run = Callable[[Features, CommandContext], Awaitable[Reply]]


@dataclass(frozen=True)
class Option:
    """One argument: its name, the values it takes (None: free text), whether it must be given.

    `hint` is how the help text shows the argument ("today|week|N"; for a long list of choices,
    a short "[stop|tone]"); "" shows the choices, or leaves a free-text argument out.
    """

    name: str
    choices: tuple[str, ...] | None = None
    required: bool = True
    hint: str = ""

    @property
    def usage(self) -> str:
        if self.hint or not self.choices:
            return self.hint
        return "|".join(self.choices)


@dataclass(frozen=True)
class Command:
    name: str
    run: Run
    options: tuple[Option, ...] = ()
    # Offered in menus and as a slash command; /start is the one Telegram offers by itself.
    menu: bool = True
    # The answer concerns only the person asking (Discord shows it to them alone in a server).
    personal: bool = False
    # It draws a chart, which may take a while (Discord defers the answer at once).
    slow: bool = False
    # Meant for whoever runs the chat (Discord shows it to Manage Server holders by default).
    admins: bool = False

    @property
    def usage(self) -> str:
        """The arguments as the help text shows them: "on|off", "today|week|N"."""
        return " ".join(o.usage for o in self.options if o.usage)


ON_OFF = ("on", "off")


async def _start(s: Features, ctx: CommandContext) -> Reply:
    if ctx.chat.kind == "group":
        return s.consent.group_intro(ctx.lang)
    return Reply(help_text(ctx.lang))


async def _help(s: Features, ctx: CommandContext) -> Reply:
    return Reply(help_text(ctx.lang))


async def _privacy(s: Features, ctx: CommandContext) -> Reply:
    kept = s.languages.privacy(ctx.lang)
    if kept is None:
        return Reply(t(ctx.lang, "privacy"))
    return Reply(f"{t(ctx.lang, 'privacy')}\n\n{kept}")


async def _lang(s: Features, ctx: CommandContext) -> Reply:
    """/lang en|ko: the person's language everywhere."""
    if not ctx.args or ctx.args[0] not in LANGUAGES:
        return Reply(t(ctx.lang, "lang.usage"))
    await s.chats.set_language(ctx.person, ctx.args[0])
    return Reply(t(ctx.args[0], "lang.done"))


# In the order the help text lists them.
COMMANDS: tuple[Command, ...] = (
    Command("start", _start, menu=False),
    Command("help", _help, personal=True),
    Command("optin", lambda s, c: s.consent.optin(c)),
    Command("optout", lambda s, c: s.consent.optout(c)),
    Command("donate", lambda s, c: s.consent.donate(c), (Option("state", ON_OFF),), personal=True),
    Command(
        "baseline",
        lambda s, c: s.consent.baseline(c),
        (Option("state", ON_OFF, required=False),),
        personal=True,
    ),
    Command(
        "transcript",
        lambda s, c: s.transcripts.command(c),
        (Option("state", ON_OFF, required=False),),
        personal=True,
    ),
    Command(
        "face",
        lambda s, c: s.faces.command(c),
        (Option("state", ON_OFF, required=False),),
        personal=True,
    ),
    Command(
        "summary",
        lambda s, c: s.digests.summary_command(c),
        (Option("period", required=False, hint="today|week|N"),),
        slow=True,
    ),
    Command(
        "digest",
        lambda s, c: s.digests.digest_command(c),
        (Option("state", ON_OFF), Option("time", required=False)),
    ),
    Command(
        "history",
        lambda s, c: s.history.history_command(c),
        (Option("period", ("week", "month"), required=False),),
        personal=True,
        slow=True,
    ),
    Command(
        "words",
        lambda s, c: s.words.words_command(c),
        (
            Option("tone", required=False, hint="[tone word|reset]"),
            Option("word", required=False),
        ),
        personal=True,
    ),
    Command(
        "practice",
        lambda s, c: s.practice.command(c),
        (Option("step", ("stop", *PRACTICE_TONES), required=False, hint="[tone|stop]"),),
        personal=True,
    ),
    Command(
        "music",
        lambda s, c: s.music.command(c),
        (Option("mode", ("match", "lift"), required=False),),
        personal=True,
    ),
    Command("export", lambda s, c: s.my_data.export_command(c), personal=True, slow=True),
    Command("lang", _lang, (Option("language", LANGUAGES),), personal=True),
    Command(
        "analysis", lambda s, c: s.consent.analysis(c), (Option("state", ON_OFF),), admins=True
    ),
    Command("privacy", _privacy, personal=True),
    Command("forget", lambda s, c: s.consent.ask_to_forget(c), personal=True),
)
BY_NAME = {command.name: command for command in COMMANDS}
MENU = tuple(command for command in COMMANDS if command.menu)


def help_text(lang: str) -> str:
    """What the bot does, then a line per command (/help itself is the intro)."""
    lines = [
        f"/{c.name}{' ' + c.usage if c.usage else ''} – {t(lang, f'command.{c.name}')}"
        for c in MENU
        if c.name != "help"
    ]
    return t(lang, "help.intro") + "\n\n" + "\n".join(lines)


def describe(lang: str, name: str) -> tuple[str, str]:
    """(arguments, description) of `/name`, for the platforms' menus.

    /help has no line of its own: it is described by the help text's first sentence.
    """
    if name == "help":
        return "", re.split(r"(?<=[.!?])\s", t(lang, "help.intro"), maxsplit=1)[0]
    return BY_NAME[name].usage, t(lang, f"command.{name}")


generated("help", help_text)
