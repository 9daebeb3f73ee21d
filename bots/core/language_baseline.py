"""A language's usual voice: running statistics of the notes analysed in each speaker's language.

A language the head never heard is mostly a shift of the voice that the language's own
unlabelled notes correct (issue 20). Where VOICEMOOD_LANGUAGE_BASELINE keeps a language, every
analysed note's vector (never its audio) is merged into its count, mean and M2
(storage.language_stats), and once they hold enough notes from enough different people, each note
is heard against them, blended with the training population (inference.models.whisper_head); a
person's own /baseline is blended in on top and takes over as it grows.

Which languages: `new` (the default) only those the loaded head never trained on, `all` every
one, `off` none. For a language the head trained on the statistics hurt (MODEL_CARD: English UAR
0.752 → 0.738, Korean 0.720 → 0.560); for one it never heard they help (Urdu 0.51 → 0.61,
bench/language_baseline.py). The head says what it trained on: the languages whose statistics it
ships. A remote worker's model is in another process, so it is read from the head folder that
VOICEMOOD_MODEL names here, if that is the version the workers serve. A model that does not say
(the compact CNN, a hub model, an older head) keeps nothing under `new`. What is known not to be
kept is deleted: a process's first note (per model) removes what an earlier run kept of the
languages the model trained on under `new`, and of every language under `off`.

The language is the speaker's as best known (`spoken`): their /lang, else the platform's hint
(Telegram's language_code; Discord gives a locale only with commands and taps, not with a
message, so a Discord note has none), else the chat language. Not the language detected in the
speech: detecting it would cost a second Whisper decoder pass on every note.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from bots.core.chats import Chats
from bots.core.values import User
from bots.i18n import t
from inference.answer import Prediction
from inference.baseline import SpeakerBaseline
from inference.errors import ModelLoadError
from inference.models.whisper_head import read_head
from inference.worker import SharedWorker
from storage.language_stats import LanguageStatistics
from storage.models import Person

log = logging.getLogger("bots.service")

Mode = Literal["off", "new", "all"]
# A language's primary subtag, as BCP 47 spells it: "ur", "ja", "pt" of "pt-BR", "fil".
_PRIMARY = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class LanguageBaselineConfig:
    """VOICEMOOD_LANGUAGE_BASELINE and the notes and people its statistics need to apply."""

    mode: Mode = "new"
    min_notes: int = 20
    # So the statistics of a language are never one person's voice.
    min_people: int = 5
    # The head folder VOICEMOOD_MODEL names: what a remote worker's model trained on is read here.
    head: Path | None = field(default=None, compare=False)


def spoken(person: Person | None, user: User, chat_language: str) -> str:
    """The speaker's language as best known: their /lang, else the platform's hint, else the chat's."""
    chosen = person.language if person is not None else None
    return _primary(chosen) or _primary(user.language_code) or chat_language


def trained_languages(worker: SharedWorker) -> frozenset[str] | None:
    """The languages the serving model trained on; None when it does not say."""
    # Only an in-process worker holds its model; a remote worker's is in another process.
    model = getattr(worker, "model", None)
    languages = getattr(model, "training_languages", None)
    return frozenset(languages) if languages is not None else None


class LanguageBaselines:
    """Reads a language's statistics for a note, and merges each analysed note into them."""

    def __init__(
        self,
        chats: Chats,
        config: LanguageBaselineConfig | None = None,
        worker: SharedWorker | None = None,
    ) -> None:
        self.store, self.health = chats.store, chats.health
        self.config = config or LanguageBaselineConfig()
        self.worker = worker
        # The model whose unkept languages were last deleted (once per model and process).
        self._cleared_for: str | None = None
        # Per model name: what the head folder says that model trained on (remote workers).
        self._heads: dict[str, frozenset[str] | None] = {}

    def trained(self) -> frozenset[str] | None:
        """The languages the serving model trained on (None: not known, or no worker)."""
        if self.worker is None:
            return None
        known = trained_languages(self.worker)
        if known is None and self.config.head is not None:
            name = self.worker.name
            if name not in self._heads:
                # Read once per model name: a small file (the head's weights, tens of KB).
                self._heads[name] = _head_languages(self.config.head, name)
            known = self._heads[name]
        return known

    def keeps(self, language: str, trained: frozenset[str] | None) -> bool:
        """Whether `language`'s statistics are kept and applied, for a model trained on `trained`."""
        if self.config.mode == "all":
            return True
        if self.config.mode == "new":
            return trained is not None and language not in trained
        return False

    async def of(self, language: str, model: str) -> str | SpeakerBaseline | None:
        """What a note in `language` is heard against: its statistics (tagged with the code) once
        kept and enough; else, for a language the model is known never to have trained on, the
        bare code, so the head answers it less surely (whatever the setting); else None."""
        trained = self.trained()
        await self._clear_once(model, trained)
        stranger: str | None = language if trained is not None and language not in trained else None
        if not self.keeps(language, trained):
            return stranger
        try:
            kept = await self.store.languages.statistics(language)
            if (
                kept is None
                or kept.model != model
                or kept.count < self.config.min_notes
                or kept.people < self.config.min_people
            ):
                return stranger
            return replace(SpeakerBaseline.from_bytes(kept.count, kept.stats), language=language)
        except Exception:
            # Unreadable statistics cost the note its language's voices, not its answer.
            self.health.down()
            return stranger

    async def learn(self, person: Person, language: str, prediction: Prediction) -> None:
        """Merge the note's vector (Welford's update; never audio) into its language's statistics."""
        embedding = prediction.embedding
        if embedding is None or not self.keeps(language, self.trained()):
            return

        def merged(kept: LanguageStatistics | None) -> LanguageStatistics:
            stats = SpeakerBaseline.continued(
                (kept.count, kept.stats) if kept is not None else None, embedding
            )
            return LanguageStatistics(
                language, prediction.model, stats.count, stats.dim, stats.to_bytes()
            )

        try:
            await self.store.languages.add_note(person, language, prediction.model, merged)
        except Exception:
            self.health.down()

    def privacy(self, lang: str) -> str | None:
        """What /privacy adds about the statistics, in `lang`; None while none can be kept."""
        config, trained = self.config, self.trained()
        if config.mode == "all":
            return t(lang, "privacy.languages", notes=config.min_notes, people=config.min_people)
        if config.mode == "new" and trained is not None:
            return t(
                lang,
                "privacy.languages.new",
                notes=config.min_notes,
                people=config.min_people,
                trained=", ".join(sorted(trained)),
            )
        return None

    async def _clear_once(self, model: str, trained: frozenset[str] | None) -> None:
        """Delete what an earlier run kept that this one may not keep (once per model)."""
        if self.config.mode == "all" or self._cleared_for == model:
            return
        if self.config.mode == "new" and trained is None:
            return  # nothing is known not to be kept (a remote worker's model may say later)
        # Under `new`, the trained languages go; under `off`, every language.
        languages = trained if self.config.mode == "new" else None
        try:
            if await self.store.languages.clear(languages):
                log.info(
                    "VOICEMOOD_LANGUAGE_BASELINE is %s: the statistics it keeps no more are deleted",
                    self.config.mode,
                )
            self._cleared_for = model
        except Exception:
            log.warning("deleting the language statistics failed; next note tries again")


def _head_languages(folder: Path, model: str) -> frozenset[str] | None:
    """What the head in `folder` trained on, if it is `model`; else None."""
    try:
        card, heads = read_head(folder)
    except ModelLoadError:
        log.warning("the head in %s could not be read for its training languages", folder)
        return None
    # As WhisperHeadModel names itself: the workers may serve another version than the folder's.
    if model != f"whisper-head:{card.version}":
        return None
    return frozenset(heads.languages) or None


def _primary(code: str | None) -> str | None:
    """The primary subtag of a language code, lower-case ("pt-BR" → "pt"); None if not one."""
    primary = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if _PRIMARY.fullmatch(primary) else None
