"""Errors a user can cause through storage (voting on a note that is gone, an unknown label, ...).

They extend the product-wide base (common.errors.VoiceMoodError), as inference's errors do, so
one `except VoiceMoodError` and one renderer serve both; storage still never imports `inference`.
"""

from __future__ import annotations

from common.errors import VoiceMoodError


class StorageError(VoiceMoodError):
    """Base for every storage error whose message may be shown to the person who caused it."""

    code = "storage"


class NoteNotFound(StorageError):
    """The note was never stored, or its speaker asked to be forgotten."""

    code = "note_not_found"


class PersonNotFound(StorageError):
    code = "person_not_found"


class ChatNotFound(StorageError):
    code = "chat_not_found"


class InvalidLabel(StorageError):
    """A label outside the canonical set the store was opened with."""

    code = "invalid_label"


class InvalidValue(StorageError):
    """A setting or vote detail out of range (intensity, language code, ...)."""

    code = "invalid_value"


class NotConsented(StorageError):
    """The speaker has not opted in to analysis in this chat, or the chat switched analysis off."""

    code = "not_consented"


class StorageFull(StorageError):
    """The disk (or a quota) is full, so the write was undone: nothing of it was kept."""

    code = "storage_full"


class SchemaTooNew(StorageError):
    """The database was written by a newer VoiceMood; opening it here could damage it."""

    code = "schema_too_new"


class FolderNotEmpty(StorageError):
    """An export goes to a new or empty folder, so no stale (maybe withdrawn) audio mixes in."""

    code = "folder_not_empty"


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached or refused the login (its URL is never in here)."""

    code = "database_unavailable"
