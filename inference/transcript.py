"""The words of a note: Whisper's own decoder, through faster-whisper, on the encoder's folder.

The packaged Whisper-base folder (inference.encoder.packaged_encoder_dir) is a whole CTranslate2
Whisper model, so faster-whisper loads it as it is: no second download, one file on disk. It is
loaded only when someone first asks for words, and it runs on its own single thread, never in the
inference worker's, so a transcript never delays anyone's emotion answer; at most `max_waiting`
notes wait for it, and a note beyond that is answered without its words.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transcript:
    """What was said, and the language Whisper heard it in (ISO 639-1, "en", "ko")."""

    text: str
    language: str


# Greedy decoding, no temperature fallback, no timestamps: the cheapest decoding (a 5 s note
# must cost at most 1.5 s more), and already near-exact on RAVDESS (bench/transcript.py).
_GREEDY: dict[str, Any] = {
    "beam_size": 1,
    "temperature": 0.0,
    "condition_on_previous_text": False,
    "without_timestamps": True,
}


# Notes up to this long are encoded at twice their length (Transcriber._short), longer ones in
# faster-whisper's 30 s windows.
_SHORT_NOTE_S = 15.0


class Transcriber:
    """Transcribes 16 kHz mono samples (every decoded note's rate), one note at a time, on a thread of its own.

    `folder` is a CTranslate2 Whisper folder, or None for the packaged Whisper-base in `cache_dir`;
    `languages` are those a note may be transcribed in (the ones VoiceMood speaks);
    `max_waiting` None lets every note wait its turn (the CLI, which bounds its own files).
    """

    def __init__(
        self,
        folder: Path | None = None,
        *,
        cache_dir: Path = Path("~/.cache/voicemood"),
        threads: int = 2,
        max_waiting: int | None = 4,
        languages: tuple[str, ...] = ("en", "ko"),
    ) -> None:
        self.languages = languages
        self._folder, self._cache_dir, self._threads = folder, cache_dir, threads
        self._model: WhisperModel | None = None
        self._loading = threading.Lock()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="transcript")
        self._room = asyncio.BoundedSemaphore(max_waiting) if max_waiting is not None else None

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded (only once someone asked for words)."""
        return self._model is not None

    async def transcribe(self, samples: np.ndarray) -> Transcript | None:
        """The note's words; None when too many notes already wait (their answers go on)."""
        loop = asyncio.get_running_loop()
        if self._room is None:
            return await loop.run_in_executor(self._executor, self.transcribe_now, samples)
        if self._room.locked():
            log.warning("transcripts are backed up; a note is answered without its words")
            return None
        async with self._room:
            return await loop.run_in_executor(self._executor, self.transcribe_now, samples)

    def transcribe_now(self, samples: np.ndarray) -> Transcript:
        """Blocking: the words of `samples` (for the CLI, benches and the executor)."""
        model = self._load()
        samples = np.asarray(samples, np.float32)
        if len(samples) > _SHORT_NOTE_S * 16_000:
            return self._long(model, samples)
        return self._short(model, samples)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _short(self, model: Any, samples: np.ndarray) -> Transcript:
        """A short note, encoded at twice its length (15 s at least), not Whisper's full 30 s.

        faster-whisper pads every note to 30 s, and the encoder's cost follows that length:
        a 5 s note took 1.09 s to encode as 30 s and 0.07 s as 10 s on a busy 2-core CPU. Too
        little silence after the speech makes the decoder loop ("Kids are talking by the door."
        x5): on 24 RAVDESS clips of actors 17-20, mean CER was 0.50 padded to 10 s, 0.14 with
        repeats of 8 tokens barred, and 0.005 padded to 15 s with them barred, as at 30 s.
        """
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer

        features = model.feature_extractor(samples)
        frames = min(3000, max(1500, 2 * features.shape[-1]))
        padded = np.zeros((features.shape[0], frames), np.float32)
        padded[:, : features.shape[-1]] = features[:, :frames]
        encoded = model.model.encode(ctranslate2.StorageView.from_array(padded[None]), to_cpu=False)
        heard = dict(model.model.detect_language(encoded)[0])
        language = max(self.languages, key=lambda code: heard.get(f"<|{code}|>", 0.0))
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        result = model.model.generate(
            encoded,
            [prompt],
            beam_size=1,
            # About 6 tokens a second of speech; the bound stops a loop, never a sentence.
            max_length=len(prompt) + 20 + int(12 * len(samples) / 16_000),
            suppress_blank=True,
            suppress_tokens=[-1],
            no_repeat_ngram_size=8,
        )
        tokens = [t for t in result[0].sequences_ids[0] if t < tokenizer.eot]
        return Transcript(tokenizer.decode(tokens).strip(), language)

    def _long(self, model: Any, samples: np.ndarray) -> Transcript:
        """A long note, through faster-whisper's own 30 s windows."""
        # Segments are decoded lazily: the language is detected first, and a note heard as a
        # language VoiceMood does not speak is decoded in the likeliest one it does instead
        # (espeak-ng's Korean came back as Thai or Japanese, bench/transcript.py).
        segments, info = model.transcribe(samples, **_GREEDY)
        if info.language not in self.languages:
            probabilities = dict(info.all_language_probs or ())
            language = max(self.languages, key=lambda code: probabilities.get(code, 0.0))
            segments, info = model.transcribe(samples, language=language, **_GREEDY)
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(text, info.language)

    def _load(self) -> Any:
        with self._loading:
            if self._model is None:
                from faster_whisper import WhisperModel

                from inference.encoder import packaged_encoder_dir

                folder = self._folder or packaged_encoder_dir(self._cache_dir)
                self._model = WhisperModel(
                    str(folder), device="cpu", compute_type="int8", cpu_threads=self._threads
                )
            return self._model


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edits (insert, delete, substitute) per reference character, case, spaces and punctuation aside.

    Spaces are left out because Korean spacing varies between correct writings of one sentence.
    """
    ref, hyp = _letters(reference), _letters(hypothesis)
    if not ref:
        return float(bool(hyp))
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())
