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

# Bump when the augmentation chain changes, so cached copies made by the old chain are not reused.
AUGMENT_VERSION = 1


@dataclass(frozen=True)
class EmbeddedClips:
    """Embeddings of clips: `vectors[i]` belongs to `clips[i]`; `copy[i]` 0 is the clean clip."""

    clips: list[Clip]
    vectors: np.ndarray
    copy: np.ndarray


class EmbeddingCache:
    """A key -> float32 vector store in one SQLite file, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
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
    seed: int = 0,
    progress: bool = True,
) -> EmbeddedClips:
    """The clean embedding of every clip plus `copies` augmented ones (voice-note conditions).

    Augmenting runs in a second thread while the encoder works, so both cores stay busy.
    """
    from tqdm import tqdm

    out_clips: list[Clip] = []
    vectors: list[np.ndarray] = []
    copy_ids: list[int] = []
    missing = 0
    bar = tqdm(total=len(clips) * (copies + 1), desc="embedding", unit="clip", disable=not progress)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="augment") as pool:
        pending = [
            pool.submit(_versions, clip, encoder.info.cache_id, copies, seed, cache)
            for clip in clips
        ]
        for clip, future in zip(clips, pending, strict=True):
            for number, (key, vector, wave) in enumerate(future.result()):
                if vector is None:
                    assert wave is not None
                    vector = encoder.embed([wave])[0]
                    cache.put(key, vector)
                    missing += 1
                    if missing % 200 == 0:
                        cache.commit()
                out_clips.append(clip)
                vectors.append(vector)
                copy_ids.append(number)
                bar.update()
    bar.close()
    cache.commit()
    return EmbeddedClips(out_clips, np.stack(vectors), np.asarray(copy_ids))


def _versions(
    clip: Clip, encoder_id: str, copies: int, seed: int, cache: EmbeddingCache
) -> list[tuple[str, np.ndarray | None, np.ndarray | None]]:
    """(key, cached vector or None, waveform to encode or None) for the clean clip and its copies."""
    content = _content_hash(clip.path)
    keys = [_key(encoder_id, content, None, seed)] + [
        _key(encoder_id, content, n, seed) for n in range(1, copies + 1)
    ]
    cached = [cache.get(key) for key in keys]
    if all(vector is not None for vector in cached):
        return [(key, vector, None) for key, vector in zip(keys, cached, strict=True)]
    clean = load_waveform(clip.path)
    result: list[tuple[str, np.ndarray | None, np.ndarray | None]] = []
    for number, (key, vector) in enumerate(zip(keys, cached, strict=True)):
        if vector is not None:
            result.append((key, vector, None))
        elif number == 0:
            result.append((key, None, clean))
        else:
            result.append((key, None, _augmented(clean, content, number, seed)))
    return result


def _augmented(wave: np.ndarray, content: str, number: int, seed: int) -> np.ndarray:
    from data_augment.augment import VoiceNoteAugmenter

    clip_seed = int.from_bytes(hashlib.sha256(f"{content}:{number}:{seed}".encode()).digest()[:8])
    return VoiceNoteAugmenter(seed=clip_seed)(wave)


def _key(encoder_id: str, content: str, number: int | None, seed: int) -> str:
    """`encoder_id` is EncoderInfo.cache_id: last-stage keys stay the sha256 prefix they were."""
    version = "clean" if number is None else f"aug{AUGMENT_VERSION}:{seed}:{number}"
    return f"{encoder_id}:{content}:{version}"


def _content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:32]
