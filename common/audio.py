"""What audio VoiceMood accepts: file types, and the size limit in one unit.

The chat adapters pick recordings out of messages with these, the web page keeps uploads under
these names, the decoder refuses by the size limit, and the dataset readers list corpus files.
Whatever the name says, ffmpeg decides in the end: a file it cannot read is refused politely.
"""

from __future__ import annotations

# Chat attachments answered as recordings by their file name (voice notes and audio files are
# recognised by their kind or MIME type first).
RECORDING_SUFFIXES = ("ogg", "oga", "opus", "mp3", "m4a", "aac", "wav", "flac", "webm", "amr")
# An attachment or document of this MIME type is audio, whatever its name.
AUDIO_MIME_PREFIX = "audio/"
# A video's sound is heard like a recording (and its faces read, for people with /face on).
VIDEO_MIME_PREFIX = "video/"
# Web uploads are stored under their own suffix when it is one of these (browsers that record
# in mp4 included), else as ".audio".
UPLOAD_SUFFIXES = frozenset(RECORDING_SUFFIXES) | {"mp4"}
# Files the dataset readers take from a corpus folder.
DATASET_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")

# Every size limit counts in bytes, and is shown in megabytes of 2**20 bytes.
MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB


def megabytes(size_bytes: int) -> float:
    """A byte count in the megabytes every limit is shown in."""
    return size_bytes / MB


def is_recording_name(file_name: str) -> bool:
    """Whether a file's name says it is a recording we read."""
    return suffix_of(file_name) in RECORDING_SUFFIXES


def suffix_of(file_name: str) -> str:
    """The lower-case extension without its dot ("" when there is none)."""
    return file_name.rpartition(".")[2].lower() if "." in file_name else ""
