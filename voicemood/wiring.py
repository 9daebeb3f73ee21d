"""Builds the shared parts (model, worker, analyzer, reloader, service) from Settings, once per process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.audio import MB
from inference.analysis import AnalysisConfig, Analyzer
from inference.audio import DecodeLimits
from inference.models import head_folder, load_model, uses_transformers
from inference.reload import ModelReloader, ReloadConfig
from inference.worker import InferenceWorker, WorkerConfig
from voicemood.settings import Settings

if TYPE_CHECKING:
    from bots.core.service import VoiceMoodService
    from storage.store import Store


def build_analyzer(settings: Settings) -> Analyzer:
    """Loads the configured model and wraps it in the one shared worker and analyzer."""
    return Analyzer(build_worker(settings), analysis_config(settings))


def build_worker(settings: Settings, *, max_queue: int | None = None) -> InferenceWorker:
    """The configured model, loaded, in an in-process worker (also a `voicemood worker`'s)."""
    if uses_transformers(settings.model):
        from voicemood.logs import route_transformers

        route_transformers()
    model = load_model(
        settings.model,
        device=settings.device,
        precision=settings.precision,
        encoder=settings.encoder,
        cache_dir=settings.cache_dir,
    )
    return InferenceWorker(
        model,
        WorkerConfig(
            max_queue=max_queue or settings.queue_size,
            max_batch=settings.max_batch,
            request_timeout_s=settings.request_timeout_s,
        ),
    )


def build_remote_analyzer(settings: Settings) -> Analyzer:
    """The analyzer of `voicemood run` with VOICEMOOD_REDIS_URL: no model here, workers elsewhere."""
    from inference.remote.client import RemoteConfig, RemoteWorker

    assert settings.redis_url is not None
    worker = RemoteWorker(
        RemoteConfig(
            url=settings.redis_url.get_secret_value(),
            prefix=settings.redis_prefix,
            max_backlog=settings.redis_max_backlog,
            request_timeout_s=settings.request_timeout_s,
        )
    )
    return Analyzer(worker, analysis_config(settings))


def analysis_config(settings: Settings) -> AnalysisConfig:
    """How a recording becomes windows and an answer, wherever the model runs."""
    limits = DecodeLimits(
        max_bytes=max_bytes(settings),
        max_duration_s=settings.max_duration_s,
        min_duration_s=settings.min_duration_s,
        timeout_s=settings.decode_timeout_s,
    )
    return AnalysisConfig(
        window_s=settings.window_s,
        windows=settings.windows,
        not_sure_below=settings.not_sure_below,
        switch_penalty=settings.timeline_switch_penalty,
        min_speech_s=settings.min_speech_s,
        main_voice_db=settings.main_voice_db,
        limits=limits,
        ffmpeg=settings.ffmpeg,
    )


def build_reloader(settings: Settings, worker: InferenceWorker) -> ModelReloader:
    """Reloads the configured model into `worker` when its folder changes or on request."""
    config = ReloadConfig(
        model=settings.model,
        device=settings.device,
        precision=settings.precision,
        watch_s=settings.model_watch_s,
        encoder=settings.encoder,
        cache_dir=settings.cache_dir,
    )
    return ModelReloader(worker, config)


def max_bytes(settings: Settings) -> int:
    """VOICEMOOD_MAX_FILE_MB in bytes, the unit every size check counts in."""
    return int(settings.max_file_mb * MB)


def build_service(
    analyzer: Analyzer, store: Store, settings: Settings | None = None
) -> VoiceMoodService:
    """The one service the bots and the web page share; without settings, the defaults (tests).

    Imported late: `classify` and `train` need no bots.
    """
    from bots.core.language_baseline import LanguageBaselineConfig
    from bots.core.service import VoiceMoodService
    from inference.transcript import Transcriber

    if settings is None:
        return VoiceMoodService(analyzer, store)
    return VoiceMoodService(
        analyzer,
        store,
        default_language=settings.language,
        max_bytes=max_bytes(settings),
        transcriber=Transcriber(cache_dir=settings.cache_dir),
        language_baseline=LanguageBaselineConfig(
            mode=settings.language_baseline,
            min_notes=settings.language_baseline_min,
            min_people=settings.language_baseline_min_people,
            head=head_folder(settings.model),
        ),
    )
