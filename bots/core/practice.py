"""Practice mode (/practice): VoiceMood names a tone and a sentence, the person records it, and
hears which tone VoiceMood heard, how sure, and the one voice cue to move to get closer.

The API any front end calls (the chats here, the web page's Practice tab):

    round = await practice.start(person)            # -> PracticeRound: tone, sentence, number
    attempt = await practice.hear(person, audio)    # -> PracticeAttempt: heard tone, confidence,
                                                    #    not_sure, hit, one Hint, updated score
    summary = await practice.stop(person)           # -> PracticeSummary (None: nothing open)

and `render_round`, `render_attempt`, `render_summary` word them in a language. The session
lives in the database (storage/practice.py), so any replica takes the next attempt; attempts
are never stored (no note, no audio), only the counts of the running score per tone.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bots.core.buttons import ButtonAction, Keyboard
from bots.core.chats import Chats
from bots.core.practice_hints import PRACTICE_TONES, Hint, hint_for
from bots.core.values import ButtonAnswer, CommandContext, Reply, User, VoiceNote, Where
from bots.i18n import EMOJI, label_name, percent, t
from bots.replies import render_error
from inference.analysis import Analyzer
from inference.answer import Prediction
from inference.cues import CueBaseline
from inference.errors import VoiceMoodError
from storage.models import Person
from storage.practice import PracticeSession, Tally, ToneScore

log = logging.getLogger("bots.practice")

# Sentences per language in bots/texts_*.py, "practice.sentence.0" ... (the same count in each).
SENTENCES = 6
# An open session with no round started or attempt heard for this long is over.
EXPIRE_AFTER = timedelta(minutes=30)


class NoPracticeRound(Exception):
    """`hear` was called for a person with no open practice session."""


@dataclass(frozen=True)
class PracticeRound:
    """One round: the tone to aim for and the sentence (an index; `sentence(lang)` words it)."""

    tone: str
    sentence_index: int
    # 1 for the session's first recording, then one more per attempt heard.
    number: int

    def sentence(self, lang: str) -> str:
        return t(lang, f"practice.sentence.{self.sentence_index}")


@dataclass(frozen=True)
class PracticeAttempt:
    """What VoiceMood heard in an attempt, whether it matched, the hint and the updated score."""

    target: str
    prediction: Prediction
    hit: bool
    # None on a hit, or when the cues could not be measured or are close to the target's profile.
    hint: Hint | None
    # None when the session was closed while the attempt was being heard (nothing was counted).
    score: ToneScore | None

    @property
    def heard(self) -> str:
        return self.prediction.label

    @property
    def confidence(self) -> float:
        return self.prediction.confidence

    @property
    def not_sure(self) -> bool:
        return self.prediction.not_sure


@dataclass(frozen=True)
class PracticeSummary:
    """An ended session: its recordings, this session's tally per tone, the running scores."""

    rounds: int
    session: tuple[Tally, ...]
    scores: tuple[ToneScore, ...]


@dataclass(frozen=True)
class PracticeTurn:
    """A private voice note met practice: the attempt's Reply, or None for a normal analysis
    (then `notice`, when set, goes first: the session had just expired)."""

    reply: Reply | None = None
    notice: str | None = None


class Practice:
    def __init__(
        self,
        chats: Chats,
        analyzer: Analyzer,
        download: Callable[[VoiceNote], Awaitable[bytes]],
        *,
        rng: random.Random | None = None,
        expire_after: timedelta = EXPIRE_AFTER,
    ) -> None:
        self.chats, self.store, self.analyzer = chats, chats.store, analyzer
        self.download, self.expire_after = download, expire_after
        self.rng = rng or random.Random()

    @property
    def tones(self) -> tuple[str, ...]:
        """The practice tones the running model can hear (a 4-label model offers four)."""
        known = set(self.analyzer.worker.labels)
        return tuple(tone for tone in PRACTICE_TONES if tone in known)

    # The front-end-neutral API

    async def start(self, person: Person, tone: str | None = None) -> PracticeRound:
        """A new round (opening a session when none is open): `tone`, or one picked at random
        other than the last one; raises ValueError for a tone the model cannot hear."""
        tones = self.tones
        if not tones:
            raise ValueError("the running model knows none of the practice tones")
        current = await self.store.practice.session(person)
        if tone is None:
            others = [x for x in tones if current is None or x != current.tone] or list(tones)
            tone = self.rng.choice(others)
        elif tone not in tones:
            raise ValueError(f"{tone!r} is not a practice tone of this model")
        last = current.sentence if current is not None else -1
        sentence = self.rng.choice([i for i in range(SENTENCES) if i != last])
        session = await self.store.practice.start_round(person, tone, sentence)
        return _round(session)

    async def current(self, person: Person) -> PracticeRound | None:
        """The round waiting for an attempt; None when no session is open (or it expired)."""
        session = await self.store.practice.session(person)
        if session is None or self._expired(session):
            return None
        return _round(session)

    async def hear(self, person: Person, audio: bytes) -> PracticeAttempt:
        """Hear one attempt at the open round and count it; never stores the audio.

        Raises NoPracticeRound when no session is open (an idle one expires here, ending it),
        and inference's typed errors for audio that cannot be heard (the round stays open).
        """
        session = await self.store.practice.session(person)
        if session is not None and self._expired(session):
            await self.store.practice.end(person)
            session = None
        if session is None:
            raise NoPracticeRound("no practice session is open")
        prediction = await self.analyzer.analyse(audio, usual_cues=await self._usual(person))
        hit = prediction.label == session.tone
        score = await self.store.practice.record_attempt(person, session.tone, hit)
        # A hit needs no correction, even where the cues sit beyond the tone's typical profile.
        hint = None if hit else hint_for(prediction.cues, session.tone)
        return PracticeAttempt(session.tone, prediction, hit, hint, score)

    async def stop(self, person: Person) -> PracticeSummary | None:
        """End the open session: its summary, or None when none was open."""
        ended = await self.store.practice.end(person)
        if ended is None:
            return None
        return PracticeSummary(ended.session.rounds, ended.session.tallies, ended.scores)

    # The chats: /practice, voice notes while a session is open, the Next and Stop buttons

    async def command(self, ctx: CommandContext) -> Reply:
        """/practice [tone] starts a round; /practice stop ends the session with its summary."""
        if ctx.chat.kind == "group":
            return Reply(t(ctx.lang, "private_only"))
        if ctx.args[:1] == ["stop"]:
            return self._summary_reply(await self.stop(ctx.person), ctx.lang)
        tone = ctx.args[0] if ctx.args else None
        if tone is not None and tone not in self.tones:
            return Reply(t(ctx.lang, "practice.usage", tones=", ".join(self.tones)))
        return await self._round_reply(ctx.person, ctx.lang, tone)

    async def on_voice(self, user: User, where: Where, note: VoiceNote) -> PracticeTurn:
        """A voice note in a private chat: the attempt while a session is open."""
        try:
            person = await self.chats.known_person(user)
            session = await self.store.practice.session(person) if person else None
            if person is None or session is None:
                return PracticeTurn()
            chat = await self.chats.chat(where, person)
            lang = await self.chats.language(person, chat, user)
            if self._expired(session):
                await self.store.practice.end(person)
                minutes = round(self.expire_after.total_seconds() / 60)
                return PracticeTurn(notice=t(lang, "practice.expired", minutes=minutes))
        except Exception:
            self.chats.health.down()
            return PracticeTurn()  # storage is down: the note gets its usual answer
        try:
            attempt = await self.hear(person, await self.download(note))
        except VoiceMoodError as error:
            return PracticeTurn(Reply(render_error(error, lang), practice_buttons(lang)))
        except NoPracticeRound:
            return PracticeTurn()  # stopped while downloading: an ordinary note after all
        except Exception:
            log.exception("hearing a practice attempt failed")
            return PracticeTurn(Reply(t(lang, "error.error"), practice_buttons(lang)))
        return PracticeTurn(Reply(render_attempt(attempt, lang), practice_buttons(lang)))

    async def on_button(
        self, person: Person, lang: str, action: ButtonAction, message_text: str
    ) -> ButtonAnswer:
        """Next: a new round below; Stop: the summary. The tapped message loses its buttons."""
        done = Reply(message_text) if message_text else None
        if action.step == "stop":
            return ButtonAnswer("", done, self._summary_reply(await self.stop(person), lang))
        return ButtonAnswer("", done, await self._round_reply(person, lang, None))

    async def _round_reply(self, person: Person, lang: str, tone: str | None) -> Reply:
        if not self.tones:
            return Reply(t(lang, "practice.no_tones"))
        return Reply(render_round(await self.start(person, tone), lang), practice_buttons(lang))

    def _summary_reply(self, summary: PracticeSummary | None, lang: str) -> Reply:
        return Reply(render_summary(summary, lang) if summary else t(lang, "practice.none"))

    def _expired(self, session: PracticeSession) -> bool:
        return datetime.now(UTC) - session.active_at > self.expire_after

    async def _usual(self, person: Person) -> CueBaseline | None:
        """The person's own usual cues when they keep a baseline (read, never updated here)."""
        try:
            if await self.store.baselines.consent(person) is None:
                return None
            kept = await self.store.baselines.cue_baseline(person)
            return CueBaseline.from_bytes(kept) if kept is not None else None
        except Exception:
            return None  # the typical voices are the reference then


def practice_buttons(lang: str) -> Keyboard:
    return (
        (
            ButtonAction("practice", step="next").button(t(lang, "button.practice_next")),
            ButtonAction("practice", step="stop").button(t(lang, "button.practice_stop")),
        ),
    )


def render_round(round_: PracticeRound, lang: str) -> str:
    return t(
        lang,
        "practice.round",
        number=round_.number,
        emoji=EMOJI[round_.tone],
        tone=label_name(lang, round_.tone),
        sentence=round_.sentence(lang),
    )


def render_attempt(attempt: PracticeAttempt, lang: str) -> str:
    """Heard what, how sure (honestly), whether it matched, the one hint, the score so far."""
    p, tone = attempt.prediction, label_name(lang, attempt.target)
    if p.not_sure and len(p.top) >= 2:
        (first, p1), (second, p2) = p.top[:2]
        heard = t(
            lang,
            "practice.heard_not_sure",
            first=label_name(lang, first),
            p1=percent(p1),
            second=label_name(lang, second),
            p2=percent(p2),
        )
    else:
        heard = t(
            lang,
            "practice.heard",
            emoji=EMOJI.get(p.label, ""),
            label=label_name(lang, p.label),
            confidence=percent(p.confidence),
        )
    if attempt.hit:
        verdict = t(lang, "practice.hit_not_sure" if p.not_sure else "practice.hit", tone=tone)
    else:
        verdict = t(lang, "practice.miss", tone=tone)
    lines = [heard, verdict]
    if attempt.hint is not None:
        lines.append(
            t(lang, f"practice.hint.{attempt.hint.cue}.{attempt.hint.direction}", tone=tone)
        )
    elif p.cues is not None and not attempt.hit:
        lines.append(t(lang, "practice.hint.close", tone=tone))
    if attempt.score is not None:
        lines.append(
            t(
                lang,
                "practice.score",
                tone=tone,
                hits=attempt.score.hits,
                attempts=attempt.score.attempts,
            )
        )
    lines.append(t(lang, "practice.again"))
    return "\n".join(lines)


def render_summary(summary: PracticeSummary, lang: str) -> str:
    """This session's hits per tone and the running score, in PRACTICE_TONES' order."""
    return t(
        lang,
        "practice.summary",
        rounds=summary.rounds,
        session=_lines(summary.session, lang),
        scores=_lines(summary.scores, lang),
    )


def _lines(tallies: Sequence[Tally | ToneScore], lang: str) -> str:
    order = {tone: i for i, tone in enumerate(PRACTICE_TONES)}
    ordered = sorted(tallies, key=lambda x: order.get(x.tone, len(order)))
    if not ordered:
        return t(lang, "practice.summary_empty")
    return "\n".join(
        t(
            lang,
            "practice.summary_line",
            emoji=EMOJI.get(x.tone, ""),
            tone=label_name(lang, x.tone),
            hits=x.hits,
            attempts=x.attempts,
        )
        for x in ordered
    )


def _round(session: PracticeSession) -> PracticeRound:
    return PracticeRound(session.tone, session.sentence, session.rounds + 1)
