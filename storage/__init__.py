"""Persistence on SQLite (aiosqlite, the default) or PostgreSQL (asyncpg): people, chats, consent, notes, feedback. Never imports a platform library."""
