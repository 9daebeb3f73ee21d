"""Encoder embeddings of labelled clips, computed once and cached on disk.

Fitting the Whisper head takes seconds; encoding (and augmenting) the clips is what costs. Every
vector is cached in one SQLite file under a key made of the encoder's sha256 (and which of its stages it pools), the clip's content
hash and the augmentation that made it, so a rerun, a retrain with new feedback or another
split re-encodes nothing it has seen. Augmented copies are drawn from a generator seeded by the
clip's content and the copy number, so a copy is the same whichever run asks for it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_augment.datasets import Clip
from data_augment.waves import load_waveform
from inference.encoder import Encoder
from inference.models.base import SAMPLE_RATE

# Bump when the augmentation chain changes, so cached copies made by the old chain are not reused.
AUGMENT_VERSION = 1
# Bump when the crop or babble recipes change (their keys carry it).
SHORT_VERSION = 1
# Crops are drawn between these lengths (seconds of the voiced part): people send "yes!" as well
# as long notes, and a head that only ever saw 2-4 s clips extrapolates on 1 s ones (issue 24).
CROP_S = (0.5, 4.0)
# Babble: this many other speakers talking at once, this far below the speaker (dB SNR).
BABBLE_TALKERS = (3, 6)
BABBLE_SNR_DB = (0.0, 20.0)


@dataclass(frozen=True)
class EmbeddedClips:
    """Embeddings of clips: `vectors[i]` belongs to `clips[i]`; `copy[i]` 0 is the clean clip.

    `kinds[i]` says what version row i is ("clean", "copy", "crop" or "babble") and `seconds[i]`
    how long its audio was (a crop is shorter than its clip).
    """

    clips: list[Clip]
    vectors: np.ndarray
    copy: np.ndarray
    kinds: np.ndarray | None = None
    seconds: np.ndarray | None = None

    def take(self, rows: Sequence[int] | np.ndarray) -> EmbeddedClips:
        """The rows `rows`, in that order."""
        rows = np.asarray(rows, np.int64)
        return EmbeddedClips(
            [self.clips[i] for i in rows],
            self.vectors[rows],
            self.copy[rows],
            self.kind_of()[rows],
            None if self.seconds is None else self.seconds[rows],
        )

    @staticmethod
    def concat(*parts: EmbeddedClips) -> EmbeddedClips:
        """The rows of every part, one after the other."""
        seconds = [p.seconds for p in parts]
        return EmbeddedClips(
            [clip for p in parts for clip in p.clips],
            np.concatenate([p.vectors for p in parts]),
            np.concatenate([p.copy for p in parts]),
            np.concatenate([p.kind_of() for p in parts]),
            None if any(s is None for s in seconds) else np.concatenate(seconds),  # type: ignore[arg-type]
        )

    def kind_of(self) -> np.ndarray:
        """`kinds`, or "clean"/"copy" from `copy` when it was not recorded."""
        if self.kinds is not None:
            return self.kinds
        return np.where(self.copy == 0, "clean", "copy")


class EmbeddingCache:
    """A key -> float32 vector store in one SQLite file, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # A long training run holds the write lock between its commits (every 200 vectors):
        # another process waits for it instead of failing with "database is locked".
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=120)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, data BLOB)")

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM vectors WHERE key = ?", (key,)).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype="<f4").astype(np.float32)

    def put(self, key: str, vector: np.ndarray) -> None:
        data = np.asarray(vector, "<f4").tobytes()
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO vectors VALUES (?, ?)", (key, data))

    def commit(self) -> None:
        with self._lock:
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.commit()
            self._db.close()


def embed_clips(
    clips: Sequence[Clip],
    encoder: Encoder,
    cache: EmbeddingCache,
    *,
    copies: int = 0,
    crops: int = 0,
    babble: int = 0,
    seed: int = 0,
    progress: bool = True,
) -> EmbeddedClips:
    """The clean embedding of every clip plus its training versions.

    `copies` whole clips in voice-note conditions (codec, noise, room, pitch, tempo); `crops`
    short voiced crops (CROP_S long; every second one also in voice-note conditions); `babble`
    whole clips with BABBLE_TALKERS other speakers of `clips` talking underneath. Augmenting runs
    in a second thread while the encoder works, so both cores stay busy.
    """
    from tqdm import tqdm

    out_clips: list[Clip] = []
    vectors: list[np.ndarray] = []
    copy_ids: list[int] = []
    kinds: list[str] = []
    seconds: list[float] = []
    missing = 0
    plan = _plan(copies, crops, babble)
    talkers = [clip.path for clip in clips] if babble else []
    speakers = [clip.speaker for clip in clips] if babble else []
    bar = tqdm(total=len(clips) * len(plan), desc="embedding", unit="clip", disable=not progress)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="augment") as pool:
        pending = [
            pool.submit(_versions, clip, _encoder_id(encoder), plan, seed, cache, talkers, speakers)
            for clip in clips
        ]
        for clip, future in zip(clips, pending, strict=True):
            for number, (key, vector, wave, length) in enumerate(future.result()):
                if vector is None:
                    assert wave is not None
                    vector = encoder.embed([wave])[0]
                    cache.put(key, np.append(vector, np.float32(len(wave) / SAMPLE_RATE)))
                    length = len(wave) / SAMPLE_RATE
                    missing += 1
                    if missing % 200 == 0:
                        cache.commit()
                out_clips.append(clip)
                vectors.append(vector)
                copy_ids.append(number)
                kinds.append(plan[number][0])
                seconds.append(length)
                bar.update()
    bar.close()
    cache.commit()
    return EmbeddedClips(
        out_clips,
        np.stack(vectors),
        np.asarray(copy_ids),
        np.asarray(kinds),
        np.asarray(seconds, np.float32),
    )


def _plan(copies: int, crops: int, babble: int) -> list[tuple[str, int]]:
    """(kind, number) of each version, the clean clip first."""
    return (
        [("clean", 0)]
        + [("copy", n) for n in range(1, copies + 1)]
        + [("crop", n) for n in range(1, crops + 1)]
        + [("babble", n) for n in range(1, babble + 1)]
    )


def _encoder_id(encoder: Encoder) -> str:
    return encoder.info.cache_id


def _versions(
    clip: Clip,
    encoder_id: str,
    plan: list[tuple[str, int]],
    seed: int,
    cache: EmbeddingCache,
    talkers: Sequence[Path],
    speakers: Sequence[str],
) -> list[tuple[str, np.ndarray | None, np.ndarray | None, float]]:
    """(key, cached vector or None, waveform to encode or None, seconds) of each planned version.

    A cached row carries the version's length in seconds as one extra float at its end. Every
    version starts from the clip's voiced span (`voiced_span`), as the analyser hears speech only.
    """
    content = _content_hash(clip.path)
    keys = [_key(encoder_id, content, kind, number, seed) for kind, number in plan]
    cached = [cache.get(key) for key in keys]
    if all(row is not None for row in cached):
        return [
            (key, row[:-1], None, float(row[-1]))  # type: ignore[index]
            for key, row in zip(keys, cached, strict=True)
        ]
    whole = load_waveform(clip.path)
    # Heard as the analyser hears a note: the speech, not the silence around it.
    start, end = voiced_span(whole)
    clean = whole[start:end]
    result: list[tuple[str, np.ndarray | None, np.ndarray | None, float]] = []
    for (kind, number), key, row in zip(plan, keys, cached, strict=True):
        if row is not None:
            result.append((key, row[:-1], None, float(row[-1])))
            continue
        rng = np.random.default_rng(_seed_of(content, kind, number, seed))
        if kind == "clean":
            wave = clean
        elif kind == "copy":
            wave = _augmented(clean, content, number, seed)
        elif kind == "crop":
            wave = voiced_crop(clean, rng)
            if number % 2 == 0:
                wave = _augmented(wave, content, number + 1000, seed)
        else:
            others = [p for p, s in zip(talkers, speakers, strict=True) if s != clip.speaker]
            wave = with_babble(clean, others, rng)
        result.append((key, None, wave, len(wave) / SAMPLE_RATE))
    return result


def voiced_crop(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random stretch of CROP_S seconds from the voiced part of `wave` (all of it if shorter)."""
    start, end = voiced_span(wave)
    length = int(rng.uniform(*CROP_S) * SAMPLE_RATE)
    if end - start <= length:
        return wave[start:end]
    at = start + int(rng.integers(end - start - length + 1))
    return wave[at : at + length]


def voiced_span(wave: np.ndarray, floor_db: float = 35.0, pad_s: float = 0.1) -> tuple[int, int]:
    """(start, end) samples from the first to the last frame within `floor_db` of the loudest."""
    frame = 400
    n = len(wave) // frame
    if n == 0:
        return 0, len(wave)
    rms = np.sqrt(np.mean(np.square(wave[: n * frame].reshape(n, frame)), axis=1)) + 1e-9
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (-floor_db / 20))
    pad = int(pad_s * SAMPLE_RATE)
    return max(0, loud[0] * frame - pad), min(len(wave), (loud[-1] + 1) * frame + pad)


def with_babble(wave: np.ndarray, talkers: Sequence[Path], rng: np.random.Generator) -> np.ndarray:
    """`wave` with several other speakers talking underneath it (a busy café), BABBLE_SNR_DB below.

    The talkers are other clips of the training set, so no recording outside it is needed; the
    mix then goes through the voice-note codec half of the time, as a phone would send it.
    """
    from data_augment.augment import opus_round_trip

    mixed = with_babble_at(wave, talkers, rng, float(rng.uniform(*BABBLE_SNR_DB)))
    if rng.random() < 0.5:
        mixed = opus_round_trip(mixed, float(rng.uniform(12, 32)))
    return np.clip(mixed, -1.0, 1.0).astype(np.float32)


def with_babble_at(
    wave: np.ndarray, talkers: Sequence[Path], rng: np.random.Generator, snr_db: float
) -> np.ndarray:
    """`wave` with BABBLE_TALKERS of `talkers` (other speakers' clips) at `snr_db` below it."""
    from data_augment.augment import add_noise

    if not talkers:
        return wave
    count = int(rng.integers(BABBLE_TALKERS[0], BABBLE_TALKERS[1] + 1))
    crowd = np.zeros(len(wave), np.float32)
    for index in rng.choice(len(talkers), size=min(count, len(talkers)), replace=False):
        other = load_waveform(talkers[int(index)])
        start, end = voiced_span(other)
        other = other[start:end]
        if len(other) == 0:
            continue
        other = np.tile(other, -(-len(wave) // len(other)))
        at = int(rng.integers(len(other) - len(wave) + 1))
        piece = other[at : at + len(wave)]
        power = float(np.sqrt(np.mean(np.square(piece)))) or 1.0
        crowd += piece / power * np.float32(10 ** (rng.uniform(-6, 0) / 20))
    return np.clip(add_noise(wave, snr_db, rng, noise=crowd), -1.0, 1.0).astype(np.float32)


def _seed_of(content: str, kind: str, number: int, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{content}:{kind}:{number}:{seed}".encode()).digest()[:8])


def _augmented(wave: np.ndarray, content: str, number: int, seed: int) -> np.ndarray:
    from data_augment.augment import VoiceNoteAugmenter

    clip_seed = int.from_bytes(hashlib.sha256(f"{content}:{number}:{seed}".encode()).digest()[:8])
    return VoiceNoteAugmenter(seed=clip_seed)(wave)


def _key(encoder_id: str, content: str, kind: str, number: int, seed: int) -> str:
    version = {
        "clean": "clean",
        "copy": f"aug{AUGMENT_VERSION}:{seed}:{number}",
        "crop": f"crop{SHORT_VERSION}:{seed}:{number}",
        "babble": f"babble{SHORT_VERSION}:{seed}:{number}",
    }[kind]
    return f"{encoder_id}:{content}:{version}+voiced"


def _content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:32]
