"""The one typed settings object, read from VOICEMOOD_* environment variables and an optional .env.

No other module reads the environment: the CLI builds a Settings and passes plain values down.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.backends import POSTGRES_SCHEMES

# What pydantic read as true and false while VOICEMOOD_LANGUAGE_BASELINE was a switch ("off" is
# the same word either way).
_OLD_ON = frozenset({"true", "1", "yes", "on", "t", "y"})
_OLD_OFF = frozenset({"false", "0", "no", "f", "n"})


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
    device: Literal["cpu", "cuda"] = Field(
        "cpu", description="cuda needs a CUDA build of torch and a GPU (checked at start)"
    )
    precision: Literal["fp32", "bf16", "int8"] = Field(
        "bf16", description="bf16 keeps the argmax on this CPU (bench/worker.py) at ~2x the speed"
    )

    model_watch_s: float = Field(
        5.0,
        ge=0,
        le=24 * 3600,
        description="poll a local VOICEMOOD_MODEL folder this often and reload it when it changes;"
        " 0: never (SIGHUP still reloads)",
    )

    tune_allocator: bool = Field(
        True, description="restart with glibc malloc settings that keep HuBERT's buffers mapped"
    )

    # Decoding
    ffmpeg: str | None = Field(None, description="ffmpeg binary; unset: PATH, then imageio-ffmpeg")
    max_file_mb: float = Field(20.0, gt=0, le=2048)
    max_duration_s: float = Field(600.0, gt=0, le=24 * 3600)
    min_duration_s: float = Field(0.3, ge=0, le=60)
    decode_timeout_s: float = Field(30.0, gt=0, le=3600)
    min_speech_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description="a note with less speech than this (the speech detector's count) is refused as"
        " too little to hear a tone in; a note with none is always refused",
    )

    main_voice_db: float = Field(
        12.0,
        ge=0,
        le=60,
        description="speech this many dB below a note's loud speech is taken for other people"
        " talking (a café) and not heard; 0 hears all the detected speech",
    )

    # Worker
    queue_size: int = Field(64, ge=1, le=100_000)
    max_batch: int = Field(4, ge=1, le=1024)
    request_timeout_s: float = Field(120.0, gt=0, le=24 * 3600)

    # Remote workers (inference.remote): unset, the model runs inside `voicemood run`
    redis_url: SecretStr | None = Field(
        None,
        description="redis://host:port/db: `voicemood run` sends notes to `voicemood worker`s"
        " through this Redis (the URL may hold a password, so it is kept out of logs)",
    )
    redis_prefix: str = Field(
        "voicemood", min_length=1, description="prefix of every Redis key one deployment uses"
    )
    redis_max_backlog: int = Field(
        64, ge=1, le=100_000, description="notes waiting in the stream; beyond it: busy"
    )
    worker_notes: int = Field(
        8, ge=1, le=10_000, description="notes one `voicemood worker` takes from Redis at once"
    )
    worker_claim_after_s: float = Field(
        30.0, gt=0, le=24 * 3600, description="a dead worker's note is taken over after this"
    )
    worker_heartbeat_s: float = Field(2.0, gt=0, le=3600)

    # Answer
    window_s: float = Field(4.0, ge=0.5, le=60)
    windows: Literal["phrases", "fixed"] = Field(
        "phrases",
        description="a long note's windows follow its phrases (pauses), or are cut every window_s",
    )
    not_sure_below: float = Field(0.5, ge=0, le=1)
    timeline_switch_penalty: float = Field(
        0.5,
        ge=0,
        le=100,
        description="log-probability cost of a change in a long note's timeline; 0: none",
    )
    language: Literal["en", "ko"] = "en"
    language_baseline: Literal["off", "new", "all"] = Field(
        "new",
        description="keep running statistics of the notes analysed per speaker's language and"
        " hear notes against them: for the languages the model never trained on (new), every"
        " language (all), or none (off: none kept). They hurt a trained language: MODEL_CARD",
    )
    language_baseline_min: int = Field(
        20, ge=1, le=1_000_000, description="notes a language's statistics need before they apply"
    )
    language_baseline_min_people: int = Field(
        5,
        ge=1,
        le=1_000_000,
        description="different people a language's statistics need before they apply",
    )

    # Storage
    data_dir: Path = Path("data")
    database: Path | None = None
    database_url: SecretStr | None = Field(
        None,
        description="postgresql://user:password@host:port/name: PostgreSQL instead of the SQLite file",
    )

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
    telegram_webhook_port: int = Field(8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = Field(
        None,
        description="secret Telegram echoes with each update (1-256 of A-Z a-z 0-9 _ -);"
        " unset: derived from the token, the same in every replica",
    )
    discord_token: SecretStr | None = None
    discord_api_base: str | None = Field(
        None, description="Discord REST base URL, e.g. a local fake's .../api/v10; unset: Discord"
    )
    discord_gateway: str | None = Field(
        None, description="Discord gateway websocket URL; unset: Discord's"
    )
    discord_shard_count: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="shards across all Discord processes; unset: one process, no sharding",
    )
    discord_shard_ids: str | None = Field(
        None,
        description="this process's shards, e.g. 0,1 or 2-3; needs VOICEMOOD_DISCORD_SHARD_COUNT;"
        " unset: all of them",
    )

    # Logs
    log_json: bool = Field(False, description="log one JSON object per line instead of text")

    # Web page and HTTP API (bots/web): beside the bots, or alone when no token is set
    web_enabled: bool = True
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=0, le=65535, description="0: any free port")

    @field_validator("language_baseline", mode="before")
    @classmethod
    def _language_baseline_was_a_switch(cls, value: object) -> object:
        """The setting was true/false before `new` existed: they still mean all/off."""
        if isinstance(value, bool):
            return "all" if value else "off"
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _OLD_ON:
                return "all"
            if word in _OLD_OFF:
                return "off"
            return word
        return value

    @field_validator("device")
    @classmethod
    def _cuda_is_there(cls, device: str) -> str:
        if device == "cuda":
            import torch  # only for this check: importing torch costs the CLI seconds

            if not torch.cuda.is_available():
                raise ValueError(
                    "this torch cannot use a GPU (a CPU-only build, or no CUDA device); use cpu"
                )
        return device

    @model_validator(mode="after")
    def _durations_leave_room(self) -> Settings:
        if self.min_duration_s >= self.max_duration_s:
            raise ValueError(
                f"VOICEMOOD_MIN_DURATION_S ({self.min_duration_s:g}) must be below "
                f"VOICEMOOD_MAX_DURATION_S ({self.max_duration_s:g})"
            )
        return self

    @field_validator("telegram_token", "discord_token", "database_url", "redis_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """VOICEMOOD_DISCORD_TOKEN= (empty, e.g. to switch a bot off in one container) is unset."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(POSTGRES_SCHEMES):
            raise ValueError("must start with postgresql:// (unset: the SQLite file)")
        return url

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_telegram_accepts(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", secret.get_secret_value()
        ):
            raise ValueError("Telegram accepts 1-256 letters, digits, _ and - only")
        return secret

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.discord_shard_ids is not None:
            if self.discord_shard_count is None:
                raise ValueError("VOICEMOOD_DISCORD_SHARD_IDS needs VOICEMOOD_DISCORD_SHARD_COUNT")
            self.shard_ids()  # raises on a bad list
        return self

    def shard_ids(self) -> list[int] | None:
        """VOICEMOOD_DISCORD_SHARD_IDS as a list ("0,1", "2-3"); None: all shards."""
        if self.discord_shard_ids is None:
            return None
        count = self.discord_shard_count or 1
        ids: set[int] = set()
        for part in self.discord_shard_ids.replace(" ", "").split(","):
            first, _, last = part.partition("-")
            if not first.isdigit() or (last and not last.isdigit()):
                raise ValueError(
                    f"VOICEMOOD_DISCORD_SHARD_IDS ({self.discord_shard_ids!r}) must be numbers"
                    " and ranges, e.g. 0,1 or 2-3"
                )
            ids.update(range(int(first), int(last or first) + 1))
        if not ids or max(ids) >= count:
            raise ValueError(
                f"VOICEMOOD_DISCORD_SHARD_IDS ({self.discord_shard_ids!r}) must be among"
                f" 0..{count - 1} (VOICEMOOD_DISCORD_SHARD_COUNT is {count})"
            )
        return sorted(ids)

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "voicemood.sqlite3"

    @property
    def database_target(self) -> str | Path:
        """What Store.open opens: the PostgreSQL URL when set, else the SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.database_path


def describe_invalid(error: ValidationError) -> list[str]:
    """One sentence per bad setting: its variable, what is wrong, and what is allowed."""
    sentences = []
    for problem in error.errors():
        if problem["type"] == "value_error":  # our own validators' words
            why = str(problem["ctx"]["error"])
        else:
            # pydantic says "Input should be a valid number, unable to parse string as a number":
            # the part before the comma is what is allowed.
            why = re.split(r", (?:unable|got) ", problem["msg"])[0]
            why = why.replace("Input should", "it should", 1)
        if not problem["loc"]:  # a rule across settings names them in its own words
            sentences.append(f"{why[0].upper()}{why[1:]}.")
            continue
        field = str(problem["loc"][0])
        name = f"VOICEMOOD_{field.upper()}"
        # Tokens, secrets and the database URL (which may hold a password) are never echoed.
        hidden = "token" in field or "secret" in field or field == "database_url"
        shown = "" if hidden else f"={problem['input']}"
        sentences.append(f"{name}{shown} is not a valid setting: {why}.")
    return sentences
