"""Music for the mood: three songs near how a note sounds, or a step toward calm and pleasant.

The 🎵 button under an answer and `/music` (the person's latest note in this chat) suggest songs
for the note's place on the valence/arousal plane (inference.affect, inference.music). Whoever
asks gets songs in their own mode, `/music match` (songs that sound like the note) or
`/music lift` (a step toward calm and pleasant). Their mode and the last three songs are kept
(store.music), so the next suggestion never repeats them, on any replica; /export shows them
and /forget deletes them. Songs come with a search link and nothing is fetched.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from bots.core.buttons import ButtonAction
from bots.core.chats import Chats
from bots.core.values import ButtonAnswer, CommandContext, Reply
from bots.i18n import t
from bots.summary import quadrant
from inference.affect import valence_arousal
from inference.music import MODES, Mode, Song, aim, suggest
from storage.errors import StorageError
from storage.models import Chat, Person, StoredNote

# How far back /music looks for the asker's latest note in the chat.
_LATEST_NOTE_WITHIN = timedelta(days=30)


class Music:
    def __init__(
        self, chats: Chats, *, not_sure_below: float = 0.5, rng: random.Random | None = None
    ) -> None:
        self.chats, self.store = chats, chats.store
        self.not_sure_below = not_sure_below
        self.rng = rng or random.Random()

    async def on_button(
        self, person: Person, chat: Chat, lang: str, action: ButtonAction
    ) -> ButtonAnswer:
        """🎵 under an answer: the songs go below it, for the chat to see."""
        assert action.note_id is not None
        try:
            note = await self.store.notes.get(action.note_id)
        except StorageError:
            note = None
        if note is None or note.chat_id != chat.id:  # a button speaks only of its own chat's notes
            return ButtonAnswer(t(lang, "music.gone"))
        return ButtonAnswer(t(lang, "music.notice"), follow=await self.for_note(person, note, lang))

    async def command(self, ctx: CommandContext) -> Reply:
        """/music (songs for your latest note here), /music match, /music lift."""
        lang, args = ctx.lang, ctx.args[:1]
        if args and args[0] in MODES:
            await self.store.music.set_mode(ctx.person, args[0])
            return Reply(t(lang, f"music.set.{args[0]}"))
        if args:
            return Reply(t(lang, "music.usage", mode=await self._mode_name(ctx.person, lang)))
        note = await self._latest_note(ctx.person, ctx.chat)
        if note is None:
            return Reply(t(lang, "music.no_note", mode=await self._mode_name(ctx.person, lang)))
        return await self.for_note(ctx.person, note, lang)

    def pick(
        self, place: tuple[float, float], mode: Mode, avoid: Collection[str] = ()
    ) -> list[Song]:
        """Three songs for a place on the plane, none in `avoid`; nothing is stored (the web page)."""
        return suggest(aim(*place, mode), avoid=avoid, rng=self.rng)

    async def for_note(self, person: Person, note: StoredNote, lang: str) -> Reply:
        """Three songs for the note, in the person's mode, none of their last three."""
        mode, last = await self._choice(person)
        place = valence_arousal(note.probabilities) if note.probabilities else (0.0, 0.0)
        songs = self.pick(place, mode, last)
        try:
            await self.store.music.remember(person, [s.key for s in songs])
        except Exception:
            self.chats.health.down()  # the songs stand; only the next draw may repeat them
        return Reply(render_songs(songs, mode, place, lang, not_sure=self._not_sure(note)))

    async def _choice(self, person: Person) -> tuple[Mode, tuple[str, ...]]:
        try:
            kept = await self.store.music.choice(person)
        except Exception:
            self.chats.health.down()
            kept = None
        if kept is None:
            return "match", ()
        return ("lift" if kept.mode == "lift" else "match"), kept.last_songs

    async def _mode_name(self, person: Person, lang: str) -> str:
        mode, _ = await self._choice(person)
        return t(lang, f"music.mode.{mode}")

    async def _latest_note(self, person: Person, chat: Chat) -> StoredNote | None:
        since = datetime.now(UTC) - _LATEST_NOTE_WITHIN
        notes = await self.store.notes.person_notes(person, since=since)
        here = [n for n in notes if n.chat_id == chat.id]
        return here[-1] if here else None

    def _not_sure(self, note: StoredNote) -> bool:
        return note.confidence < self.not_sure_below


def render_songs(
    songs: Sequence[Song],
    mode: Mode,
    place: tuple[float, float],
    lang: str,
    *,
    not_sure: bool = False,
) -> str:
    """The suggestion as one message: where the note sits, the songs with links, why these."""
    lines = [music_header(mode, place, lang)]
    if not_sure:
        lines.append(t(lang, "music.not_sure"))
    lines.append("")
    for number, song in enumerate(songs, 1):
        lines.append(song_line(number, song, lang))
    lines += ["", f"{t(lang, 'music.why')} {t(lang, f'music.footer.{mode}')}"]
    return "\n".join(lines)


def music_header(mode: Mode, place: tuple[float, float], lang: str) -> str:
    """Where the songs aim: near the note's place, or a step from it toward calm and pleasant."""
    valence, arousal = place
    where = t(lang, f"quadrant.{quadrant(valence, arousal)}")
    return t(lang, f"music.header.{mode}", quadrant=where, valence=valence, arousal=arousal)


def song_line(number: int, song: Song, lang: str) -> str:
    """ "1. Title – Artist" and its search link below."""
    return t(lang, "music.song", number=number, name=song_name(song, lang), link=song.link)


def song_name(song: Song, lang: str) -> str:
    """ "Title – Artist", or a film excerpt's film named as such."""
    key = "music.name.film" if song.is_film else "music.name.song"
    return t(lang, key, title=song.title, artist=song.artist)
