"""A language's usual voice: running statistics of the notes analysed in each chat language.

A language the head never heard is mostly a shift of the voice that the language's own
unlabelled notes correct (issue 20). With VOICEMOOD_LANGUAGE_BASELINE on, every analysed note's
vector (never its audio) is merged into its language's count, mean and M2 (storage.language_stats),
and once they hold enough notes from enough different people, each note is heard against them,
blended with the training population (inference.models.whisper_head); a person's own /baseline
is blended in on top and takes over as it grows. Off by default: for a language the head trained
on the same statistics hurt (MODEL_CARD: English UAR 0.752 → 0.738, Korean 0.720 → 0.560), and
off nothing is kept: the first note a process hears with it off deletes what an earlier run kept.

The language is the chat language (the person's /lang, a group's, else the platform's hint),
not the language detected in the speech: detecting it would cost a second Whisper decoder pass
on every note.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bots.core.chats import Chats
from inference.answer import Prediction
from inference.baseline import SpeakerBaseline
from storage.language_stats import LanguageStatistics
from storage.models import Person

log = logging.getLogger("bots.service")


@dataclass(frozen=True)
class LanguageBaselineConfig:
    """VOICEMOOD_LANGUAGE_BASELINE and the notes and people its statistics need to apply."""

    on: bool = False
    min_notes: int = 20
    # So the statistics of a language are never one person's voice.
    min_people: int = 5


class LanguageBaselines:
    """Reads a chat language's statistics for a note, and merges each analysed note into them."""

    def __init__(self, chats: Chats, config: LanguageBaselineConfig | None = None) -> None:
        self.store, self.health = chats.store, chats.health
        self.config = config or LanguageBaselineConfig()
        self._cleared = False

    async def of(self, language: str, model: str) -> SpeakerBaseline | None:
        """What a note in `language` is heard against: None while off, or too few notes or
        people, or kept for another model."""
        if not self.config.on:
            await self._clear_once()
            return None
        try:
            kept = await self.store.languages.statistics(language)
            if (
                kept is None
                or kept.model != model
                or kept.count < self.config.min_notes
                or kept.people < self.config.min_people
            ):
                return None
            return SpeakerBaseline.from_bytes(kept.count, kept.stats)
        except Exception:
            # Unreadable statistics cost the note its language, not its answer.
            self.health.down()
            return None

    async def learn(self, person: Person, language: str, prediction: Prediction) -> None:
        """Merge the note's vector (Welford's update; never audio) into its language's statistics."""
        embedding = prediction.embedding
        if not self.config.on or embedding is None:
            return

        def merged(kept: LanguageStatistics | None) -> LanguageStatistics:
            # None, or another width: statistics of other numbers, so they start afresh.
            stats = (
                SpeakerBaseline.from_bytes(kept.count, kept.stats)
                if kept is not None and kept.dim == embedding.size
                else SpeakerBaseline.empty(embedding.size)
            ).updated(embedding)
            return LanguageStatistics(
                language, prediction.model, stats.count, stats.dim, stats.to_bytes()
            )

        try:
            await self.store.languages.add_note(person, language, prediction.model, merged)
        except Exception:
            self.health.down()

    async def _clear_once(self) -> None:
        """Off keeps nothing: delete what a run with the setting on kept (once per process)."""
        if self._cleared:
            return
        try:
            if await self.store.languages.clear():
                log.info("VOICEMOOD_LANGUAGE_BASELINE is off: the language statistics are deleted")
            self._cleared = True
        except Exception:
            log.warning("deleting the language statistics failed; next note tries again")
