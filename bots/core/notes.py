"""Voice notes: listen (only with consent), analyse, answer, and keep what may be kept.

A note in a private chat is a request to analyse it; in a group only opted-in members are heard.
Storage failures never cost the sender their answer; a person's voice baseline (their own
opt-in) reads the note against their usual voice and learns from it. A video is heard by its
sound alone, and only that sound is kept when donated; its faces are read, beside the voice,
for people with /face on (bots.core.faces).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from bots.core.buttons import feedback_buttons
from bots.core.chats import Chats
from bots.core.faces import Faces
from bots.core.language_baseline import LanguageBaselines, spoken
from bots.core.transcripts import Transcripts
from bots.core.values import Heard, Reply, User, VoiceNote, Where
from bots.core.words import Words
from bots.i18n import t
from bots.replies import render_error, render_prediction
from common.audio import DEFAULT_MAX_BYTES, megabytes
from inference.analysis import Analyzer
from inference.answer import Prediction
from inference.baseline import SpeakerBaseline
from inference.cues import CueBaseline
from inference.errors import TooLarge, VoiceMoodError
from inference.face import FaceReading
from inference.personal import MAX_CORRECTIONS, Correction, PersonalAdjustment, fit_adjustment
from inference.transcript import Transcript
from inference.video_notes import SOUND_SUFFIX, sound_track
from storage.arrivals import Arrival
from storage.errors import NotConsented, StorageError, StorageFull
from storage.models import Chat, Person, StoredBaseline, StoredNote

log = logging.getLogger("bots.service")


@dataclass(frozen=True)
class UsualVoice:
    """A person's baseline as a note meets it: switched on or not, and what it learned so far."""

    on: bool
    # None while off, before the first note, or when only another model's statistics exist.
    baseline: SpeakerBaseline | None = None
    # The person's voice-cue statistics (any model's notes teach them); None while off or empty.
    cues: CueBaseline | None = None
    # Fitted on the person's own corrections (inference.personal); None: too few, or the guard
    # found it would not help.
    personal: PersonalAdjustment | None = None


class Notes:
    def __init__(
        self,
        chats: Chats,
        analyzer: Analyzer,
        max_bytes: int = DEFAULT_MAX_BYTES,
        words: Words | None = None,
        transcripts: Transcripts | None = None,
        faces: Faces | None = None,
        languages: LanguageBaselines | None = None,
    ) -> None:
        self.chats, self.analyzer, self.max_bytes = chats, analyzer, max_bytes
        self.languages = languages or LanguageBaselines(chats, worker=analyzer.worker)
        self.words = words or Words(chats)
        self.transcripts = transcripts
        self.faces = faces or Faces(chats)
        self.store, self.health = chats.store, chats.health

    async def on_voice(self, user: User, where: Where, note: VoiceNote) -> Reply | None:
        """Analyse a recording; None means stay quiet (a group member who has not opted in)."""
        if where.is_group:
            # Nothing is written about a member who never opted in, not even that they spoke.
            known = await self.chats.known_person(user)
            if known is None:
                return None
            if not await self.store.consent.may_analyse(known, await self.chats.chat(where, None)):
                return None
        try:
            # Person, chat and consent in one read (store.arrivals): every note takes this step.
            arrival = await self.chats.arrive(user, where)
            person, chat = arrival.person, arrival.chat
            lang = await self.chats.language(person, chat, user)
            if not arrival.may_analyse:
                return None
        except Exception as error:
            self.health.down()
            if where.is_group:
                return None  # consent cannot be checked, so a group note stays unheard
            # A private chat is consent enough (the sender asked): answer without storing.
            full = isinstance(error, StorageFull)
            lang = self.chats.hinted_language(user)
            return await self._answer(None, None, note, lang, full=full)
        # Replies stay in `lang`; the language statistics follow the speaker's own language.
        return await self._answer(
            person, chat, note, lang, arrival, speaks=spoken(person, user, lang)
        )

    async def _answer(
        self,
        person: Person | None,
        chat: Chat | None,
        note: VoiceNote,
        lang: str,
        arrival: Arrival | None = None,
        *,
        full: bool = False,
        speaks: str | None = None,
    ) -> Reply:
        """Download, analyse and (when person and chat are known) store one note.

        `arrival`: the person's choices as read with them (baseline on, their words).
        `full`: the storage is already known to be full, so the answer says it was not saved.
        `speaks`: the speaker's language (language_baseline.spoken), for its statistics.
        """
        speaks = speaks or lang
        try:
            try:
                data = await self.download(note)
            except VoiceMoodError:
                raise
            except Exception:
                log.warning("download of a voice note failed", exc_info=True)
                return Reply(t(lang, "download_failed"))
            usual = await self._usual_voice(person, arrival)
            # The speaker's language's statistics (VOICEMOOD_LANGUAGE_BASELINE), once enough exist.
            voices = await self.languages.of(speaks, self.analyzer.worker.name) if person else None
            words = self.transcripts is not None and await self.transcripts.wanted(person, chat)
            reading = None
            if note.video:
                # The faces are read beside the voice; the video goes no further than here.
                if await self.faces.wanted(person):
                    reading = asyncio.create_task(self.faces.read(data))
                data, note = await self._sound_of(data, reading), replace(note, suffix=SOUND_SUFFIX)
            try:
                prediction, heard = await self._analyse(data, usual, voices, words=words)
            except BaseException:
                if reading is not None:
                    reading.cancel()
                raise
        except VoiceMoodError as error:
            return Reply(render_error(error, lang))
        except Exception:
            # A model or worker failure is ours, not the sender's: log it, ask them to retry.
            log.exception("analysing a voice note failed unexpectedly")
            return Reply(t(lang, "error.error"))
        # The speaker's own words for tones (/words); the stored label stays canonical.
        own_words = arrival.label_words if arrival is not None else await self.words.of(person)
        text = render_prediction(prediction, lang, own_words)
        stored = None
        if person is not None and chat is not None:
            try:
                stored = await self._keep(person, chat, note, prediction, data, text)
            except StorageFull:
                full = True
        if person is not None and stored is not None:
            # Only a note kept under consent (an /optout meanwhile keeps none) joins the language's.
            await self.languages.learn(person, speaks, prediction)
        if person is not None and usual.on:
            await self._learn_voice(person, prediction)
            if stored is not None:
                await self._keep_for_corrections(person, stored, prediction)
        # The face and the words are shown, never stored: the kept answer above is the tone alone.
        face = await self._face_lines(person, note, prediction, reading, lang, own_words)
        shown = Transcripts.under(f"{text}\n\n{face}" if face else text, heard, lang)
        if full:
            # The answer stands; the person should know it (and any donated audio) was not kept.
            return Reply(f"{shown}\n\n{t(lang, 'error.storage_full')}")
        if stored is None:
            return Reply(shown)
        return Reply(shown, feedback_buttons(stored.id, lang), note_id=stored.id)

    async def _analyse(
        self, data: bytes, usual: UsualVoice, voices: str | SpeakerBaseline | None, *, words: bool
    ) -> tuple[Prediction, Transcript | None]:
        if self.transcripts is None:
            prediction = await self.analyzer.analyse(
                data,
                baseline=usual.baseline,
                usual_cues=usual.cues,
                language=voices,
                personal=usual.personal,
            )
            return prediction, None
        return await self.transcripts.analyse(
            data,
            words=words,
            baseline=usual.baseline,
            usual_cues=usual.cues,
            language=voices,
            personal=usual.personal,
        )

    async def _sound_of(
        self, video: bytes, reading: asyncio.Task[FaceReading | str] | None
    ) -> bytes:
        """The video's sound alone, as a FLAC file: what is analysed, and kept if donated."""
        try:
            audio = await self.analyzer.decode(video)
            return await asyncio.to_thread(sound_track, audio)
        except BaseException:
            if reading is not None:
                reading.cancel()
            raise

    async def _face_lines(
        self,
        person: Person | None,
        note: VoiceNote,
        prediction: Prediction,
        reading: asyncio.Task[FaceReading | str] | None,
        lang: str,
        own_words: Mapping[str, str],
    ) -> str | None:
        """What the face showed (with /face on), or once the hint that it could be read."""
        if not note.video:
            return None
        if reading is None:
            return await self.faces.hint_once(person, lang)
        return self.faces.lines(prediction, await reading, lang, own_words)

    async def on_upload(
        self,
        note: VoiceNote,
        donor: User | None = None,
        *,
        keep_audio: bool = True,
        lang: str | None = None,
        face: bool = False,
    ) -> Heard:
        """A recording sent from outside any chat (the web page); nothing is kept unless asked.

        With a `donor` the note is kept in their own private chat, so votes, history, export and
        forget-me treat it as any voice note. `keep_audio` (a donation) is also their
        `/donate on` and keeps this recording; without it only the answer is kept (the web
        page's "remember my answers"). `lang` words the kept answer. `face` (the sender's tick
        for this recording, kept nowhere) has a video's face read beside its voice. Errors a
        sender can cause are raised, for the caller to word.
        """
        data = await self.download(note)
        reading = None
        if note.video:
            # Only its sound is heard, and kept if donated: never the pictures.
            if face:
                reading = asyncio.create_task(self.faces.read(data))
            data, note = await self._sound_of(data, reading), replace(note, suffix=SOUND_SUFFIX)
        try:
            prediction = await self.analyzer.analyse(data)
        except BaseException:
            if reading is not None:
                reading.cancel()
            raise
        seen = await reading if reading is not None else None
        if donor is None:
            return Heard(prediction, face=seen)
        # Only once analysed: an upload that cannot be analysed leaves no trace of its sender.
        try:
            person = await self.chats.person(donor)
            chat = await self.chats.chat(Where(donor.platform, donor.id, is_group=False), person)
            if keep_audio:
                await self.store.consent.give(person, "donate_audio")
        except Exception:
            self.health.down()
            return Heard(prediction, face=seen)
        words = await self.words.of(person)
        text = render_prediction(prediction, lang, words) if lang is not None else None
        try:
            # Without a donation the audio is never handed to storage, even under an older grant.
            audio = data if keep_audio else None
            stored = await self._keep(person, chat, note, prediction, audio, text)
        except StorageFull:
            stored = None  # the answer stands; only the note could not be kept
        return Heard(prediction, stored.id if stored is not None else None, words, seen)

    async def download(self, note: VoiceNote) -> bytes:
        """The recording's bytes, refused before downloading when it says it is too large."""
        if note.size is not None and note.size > self.max_bytes:
            raise TooLarge("too large", limit_mb=megabytes(self.max_bytes))
        return await note.fetch()

    async def remember_reply(self, note_id: int, reply_message_id: str) -> None:
        """Link the bot's answer message to its note, so reactions on it count as votes."""
        try:
            await self.store.notes.set_reply_message(note_id, reply_message_id)
        except StorageError:
            log.info("note %s vanished before its reply was linked", note_id)

    async def _keep(
        self,
        person: Person,
        chat: Chat,
        note: VoiceNote,
        prediction: Prediction,
        data: bytes | None,
        answer_text: str | None = None,
    ) -> StoredNote | None:
        """Store the answer (the audio only if donated); None when it may not or could not be.

        `answer_text`, the answer as sent, is what an edit after a vote shows again.

        A full storage raises StorageFull, for the reply to say so.
        """
        try:
            stored = await self.store.notes.add(
                person,
                chat,
                message_id=note.message_id,
                duration_s=prediction.duration_s,
                model=prediction.model,
                label=prediction.label,
                confidence=prediction.confidence,
                probabilities=prediction.probabilities,
                audio=data,
                audio_suffix=note.suffix,
                answer_text=answer_text,
            )
        except NotConsented:
            return None
        except StorageFull:
            self.health.down()
            raise
        except Exception:
            self.health.down()
            return None
        self.health.up()
        return stored

    async def _usual_voice(
        self, person: Person | None, arrival: Arrival | None = None
    ) -> UsualVoice:
        """Whether the person's baseline is on (as `arrival` read it, else read now), and what it
        learned for the current model."""
        if person is None:
            return UsualVoice(on=False)
        try:
            on = (
                arrival.baseline_on
                if arrival is not None
                else await self.store.baselines.consent(person) is not None
            )
            if not on:
                return UsualVoice(on=False)
            kept = await self.store.baselines.baseline(person, self.analyzer.worker.name)
            kept_cues = await self.store.baselines.cue_baseline(person)
            # Inside the try: unreadable statistics must not cost the person their answer.
            cues = CueBaseline.from_bytes(kept_cues) if kept_cues is not None else None
            if kept is None or kept.count == 0:
                return UsualVoice(True, cues=cues)
            baseline = SpeakerBaseline.from_bytes(kept.count, kept.stats)
            return UsualVoice(True, baseline, cues, await self._personal(person, baseline))
        except Exception:
            self.health.down()
            return UsualVoice(on=False)

    async def _personal(
        self, person: Person, baseline: SpeakerBaseline
    ) -> PersonalAdjustment | None:
        """The adjustment the person's corrections of this model's answers teach, if it helps."""
        worker = self.analyzer.worker
        labels = list(worker.labels)
        try:
            kept = await self.store.corrections.corrections(person, worker.name, MAX_CORRECTIONS)
        except Exception:
            # Unreadable corrections cost the person their adjustment, not their baseline.
            log.warning("reading a person's corrections failed", exc_info=True)
            return None
        corrections = [
            Correction(
                note.embedding,
                np.array([note.probabilities.get(label, 0.0) for label in labels]),
                labels.index(note.label),
            )
            for note in kept
            if note.label in labels and note.embedding.size == baseline.dim
        ]
        # A fit of up to MAX_CORRECTIONS takes ~0.2 s: off the event loop.
        return await asyncio.to_thread(fit_adjustment, corrections, baseline)

    async def _learn_voice(self, person: Person, prediction: Prediction) -> None:
        """Fold the note's embedding and cues (never its audio) into the person's baseline."""
        await self._learn_cues(person, prediction)
        embedding = prediction.embedding
        if embedding is None:
            return  # this model does not embed: nothing more to learn

        def updated(kept: StoredBaseline | None) -> StoredBaseline:
            stats = SpeakerBaseline.continued(
                (kept.count, kept.stats) if kept is not None else None, embedding
            )
            return StoredBaseline(prediction.model, stats.count, stats.dim, stats.to_bytes())

        try:
            await self.store.baselines.update_baseline(person, prediction.model, updated)
        except NotConsented:
            pass  # switched off (or forgotten) while the note was being analysed
        except Exception:
            self.health.down()

    async def _keep_for_corrections(
        self, person: Person, stored: StoredNote, prediction: Prediction
    ) -> None:
        """Keep the note's numbers (never its audio), so the person's vote on it can teach."""
        if prediction.embedding is None:
            return
        try:
            await self.store.corrections.keep(
                person,
                stored.id,
                prediction.model,
                prediction.embedding,
                prediction.unadjusted or prediction.probabilities,
            )
        except NotConsented:
            pass  # switched off (or forgotten) while the note was being analysed
        except Exception:
            self.health.down()

    async def _learn_cues(self, person: Person, prediction: Prediction) -> None:
        """Fold the note's voice cues (numbers only) into the person's usual cues."""
        cues = prediction.cues
        if cues is None:
            return

        def updated(kept: bytes | None) -> bytes:
            usual = CueBaseline.from_bytes(kept) if kept is not None else CueBaseline.empty()
            return usual.updated(cues).to_bytes()

        try:
            await self.store.baselines.update_cue_baseline(person, updated)
        except NotConsented:
            pass  # switched off (or forgotten) while the note was being analysed
        except Exception:
            self.health.down()
