"""The one typed settings object, read from VOICEMOOD_* environment variables and an optional .env.

No other module reads the environment: the CLI builds a Settings and passes plain values down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VOICEMOOD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Model
    model: str | None = Field(
        None,
        description="Model folder, hub id (e.g. superb/hubert-large-superb-er) or 'compact'; "
        "unset: the bundled Whisper head",
    )
    encoder: str | None = Field(
        None,
        description="CTranslate2 Whisper folder or hub id under a Whisper head; unset: packaged base",
    )
    cache_dir: Path = Field(
        Path("~/.cache/voicemood"),
        description="where the packaged encoder is assembled and training embeddings are cached",
    )
    device: Literal["cpu", "cuda"] = "cpu"
    precision: Literal["fp32", "bf16", "int8"] = Field(
        "bf16", description="bf16 keeps the argmax on this CPU (bench/worker.py) at ~2x the speed"
    )

    model_watch_s: float = Field(
        5.0,
        ge=0,
        description="poll a local VOICEMOOD_MODEL folder this often and reload it when it changes;"
        " 0: never (SIGHUP still reloads)",
    )

    tune_allocator: bool = Field(
        True, description="restart with glibc malloc settings that keep HuBERT's buffers mapped"
    )

    # Decoding
    ffmpeg: str | None = Field(None, description="ffmpeg binary; unset: PATH, then imageio-ffmpeg")
    max_file_mb: float = 20.0
    max_duration_s: float = 600.0
    min_duration_s: float = 0.3
    decode_timeout_s: float = 30.0

    # Worker
    queue_size: int = 64
    max_batch: int = 4
    request_timeout_s: float = 120.0

    # Answer
    window_s: float = 4.0
    not_sure_below: float = 0.5
    timeline_switch_penalty: float = Field(
        1.5, ge=0, description="log-probability cost of a change in a long note's timeline; 0: none"
    )
    language: Literal["en", "ko"] = "en"

    # Storage
    data_dir: Path = Path("data")
    database: Path | None = None

    # Platforms (later issues)
    telegram_token: SecretStr | None = None
    telegram_api_base: str | None = Field(
        None, description="Bot API URL ending in /bot (a local Bot API server); unset: Telegram's"
    )
    telegram_file_base: str | None = Field(
        None, description="Bot API file URL ending in /file/bot; unset: Telegram's"
    )
    telegram_webhook_url: str | None = Field(
        None, description="Public HTTPS URL Telegram posts updates to; unset: long polling"
    )
    telegram_webhook_listen: str = Field("0.0.0.0", description="Address the webhook binds to")
    telegram_webhook_port: int = 8443
    discord_token: SecretStr | None = None
    discord_api_base: str | None = Field(
        None, description="Discord REST base URL, e.g. a local fake's .../api/v10; unset: Discord"
    )
    discord_gateway: str | None = Field(
        None, description="Discord gateway websocket URL; unset: Discord's"
    )

    # Logs
    log_json: bool = Field(False, description="log one JSON object per line instead of text")

    # Web page and HTTP API (bots/web): beside the bots, or alone when no token is set
    web_enabled: bool = True
    web_host: str = "127.0.0.1"
    web_port: int = 8080

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "voicemood.sqlite3"
