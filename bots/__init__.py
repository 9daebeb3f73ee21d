"""The platform-neutral service and the thin Telegram/Discord adapters over it."""
