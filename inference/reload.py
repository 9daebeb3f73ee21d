"""Hot reload: the running worker takes a new model from its folder without a restart.

Retraining writes a new model into the folder VOICEMOOD_MODEL names. The reloader polls the
folder's model files (name, size, mtime) every `watch_s` seconds and loads only a folder that has
not changed for one whole interval, so a half-written folder is never loaded. Polling instead of
inotify: it works the same on every filesystem (bind mounts, NFS, Docker volumes) and needs no
extra package. The worker's `swap` keeps every admitted note on the model it was admitted to; a
folder that fails to load is logged and the old model keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from inference.models import BUNDLED_DIR, COMPACT_MARKER, HEAD_MARKER, EmotionModel, load_model
from inference.worker import InferenceWorker

log = logging.getLogger("voicemood.reload")

# The files a model is loaded from: a Whisper head's marker and weights (head.safetensors), the
# compact marker and weights, or a transformers checkpoint's config and (possibly sharded)
# weights. Metrics, plots and reports a run writes beside them are not the model, so writing them
# does not reload it.
MODEL_FILES = (
    HEAD_MARKER,
    COMPACT_MARKER,
    "config.json",
    "preprocessor_config.json",
    "*.safetensors",
    "*.bin",
    "*.index.json",
)

# (file name, size in bytes, mtime in ns, inode) of each model file, sorted by name; the inode
# tells a file replaced by a rename even when its size and mtime tick are the same.
Snapshot = tuple[tuple[str, int, int, int], ...]


@dataclass(frozen=True)
class ReloadConfig:
    model: str | None  # VOICEMOOD_MODEL: None or "bundled" is the bundled model
    device: str = "cpu"
    precision: str = "fp32"
    watch_s: float = 5.0  # poll interval; 0 turns watching off (explicit reloads still work)
    encoder: str | None = None  # VOICEMOOD_ENCODER, under a Whisper head
    cache_dir: Path = Path("~/.cache/voicemood")


class ModelReloader:
    """Loads the configured model again when its folder changes, or when asked, and swaps it in."""

    def __init__(self, worker: InferenceWorker, config: ReloadConfig) -> None:
        self.worker = worker
        self.config = config
        self.folder = watched_folder(config.model) if config.watch_s > 0 else None
        self._lock = asyncio.Lock()  # a signal and the watcher never load two models at once
        self._task: asyncio.Task[None] | None = None
        self._triggered: set[asyncio.Task[bool]] = set()
        # The folder as last polled, and as last loaded (or tried): a change must hold still for
        # one interval before it is loaded, and a folder that failed is not retried until it changes.
        self._seen: Snapshot = snapshot(self.folder) if self.folder else ()
        self._tried: Snapshot = self._seen

    async def start(self) -> None:
        """Start polling the model folder, when there is one to watch."""
        if self.folder is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="model-watch")
            log.info("watching %s for a new model every %g s", self.folder, self.config.watch_s)

    async def close(self) -> None:
        """Stop polling and drop reloads still loading (the model serving now keeps serving)."""
        for task in [*self._triggered, *([self._task] if self._task else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None

    async def __aenter__(self) -> ModelReloader:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def trigger(self) -> None:
        """Reload now, in the background (an operator's SIGHUP); safe to call from a signal handler."""
        task = asyncio.get_running_loop().create_task(self.reload(), name="model-reload")
        self._triggered.add(task)
        task.add_done_callback(self._triggered.discard)

    async def reload(self) -> bool:
        """Load the configured model and swap it in; False (and a warning) when it fails to load."""
        async with self._lock:
            if self.folder is not None:
                # What is loaded now must not be loaded a second time by the watcher.
                self._seen = self._tried = snapshot(self.folder)
            try:
                model = await asyncio.to_thread(self._load)
            except Exception as error:  # any broken folder: the old model keeps serving
                log.warning(
                    "could not load the new model (%s); still serving %s", error, self.worker.name
                )
                return False
            old = self.worker.swap(model)
            log.info("model reloaded: %s -> %s", old.name, model.name)
            return True

    async def poll(self) -> bool:
        """Look at the folder once; load it when it changed and then held still since the last look."""
        if self.folder is None:
            return False
        now = snapshot(self.folder)
        if now != self._seen:
            self._seen = now  # still being written, perhaps: wait one more interval
            return False
        if now == self._tried:
            return False
        if not now:
            self._tried = now
            log.warning("%s holds no model files; still serving %s", self.folder, self.worker.name)
            return False
        return await self.reload()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.config.watch_s)
            try:
                await self.poll()
            except OSError as error:  # an unreadable folder must not stop the watching
                log.warning("could not look at %s: %s", self.folder, error)

    def _load(self) -> EmotionModel:
        from inference.models.whisper_head import WhisperHeadModel

        c = self.config
        current = self.worker.model
        folder = Path(c.model).expanduser() if c.model else None
        if isinstance(current, WhisperHeadModel) and folder and (folder / HEAD_MARKER).is_file():
            # A retrained head over the same encoder: share the loaded encoder (tens of MB, and
            # the one inference thread runs both models' passes, never two at once).
            return WhisperHeadModel.load(folder, encoder=current.encoder)
        return load_model(
            c.model,
            device=c.device,
            precision=c.precision,
            encoder=c.encoder,
            cache_dir=c.cache_dir,
        )


def watched_folder(spec: str | None) -> Path | None:
    """The local folder a model spec names, or None (hub ids and the bundled model are not watched)."""
    if spec is None or spec == "bundled":
        return None
    path = Path(spec).expanduser()
    if not path.is_dir() or path.resolve() == BUNDLED_DIR.resolve():
        return None
    return path


def snapshot(folder: Path) -> Snapshot:
    """Name, size and mtime of the model files in `folder`; empty when it has none (or is gone)."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return ()
    found: list[tuple[str, int, int, int]] = []
    for entry in entries:
        if not any(entry.match(pattern) for pattern in MODEL_FILES):
            continue
        try:
            stat = entry.stat()
        except FileNotFoundError:  # removed between the listing and the look
            continue
        found.append((entry.name, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(sorted(found))
