"""Persistence on aiosqlite: people, chats, consent, analysed notes, feedback. Never imports a platform library."""
