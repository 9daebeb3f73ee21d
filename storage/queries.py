"""The SQL that carries product rules: who may be analysed, a note's final label, what the
export takes, what "forget me" deletes, and the indexed read behind summaries.

Public so tests can read query plans and so the rules sit in one place to review.
"""

from __future__ import annotations

from storage.backends import Dialect
from storage.rows import NOTE_COLUMNS

# A chat's notes, newest first, by the (chat_id, created_at) index.
# :since may be -inf; :limit NO_LIMIT for all of them (SQLite's -1 is an error in PostgreSQL).
NO_LIMIT = 2**63 - 1
CHAT_NOTES_SQL = f"""
    SELECT {NOTE_COLUMNS} FROM notes n JOIN persons p ON p.id = n.person_id
    WHERE n.chat_id = :chat AND n.created_at >= :since
    ORDER BY n.created_at DESC, n.id DESC LIMIT :limit
"""

# The final label of each note: most votes; a tie goes to the label whose first vote came first.
# The model's own answer (notes.label) is not a vote and is never counted. :notes is a JSON array.
# The one statement whose words differ by engine: how a JSON array becomes rows.
_FINAL_LABELS_SQL = """
    WITH tally AS (
        SELECT note_id, label, COUNT(*) AS n, MIN(created_at) AS first_at, MIN(id) AS first_id
        FROM votes WHERE note_id IN ({note_ids})
        GROUP BY note_id, label
    ), ranked AS (
        SELECT note_id, label,
               ROW_NUMBER() OVER (PARTITION BY note_id ORDER BY n DESC, first_at, first_id) AS rank
        FROM tally
    )
    SELECT note_id, label FROM ranked WHERE rank = 1
"""
FINAL_LABELS_SQL: dict[Dialect, str] = {
    "sqlite": _FINAL_LABELS_SQL.format(note_ids="SELECT value FROM json_each(:notes)"),
    "postgres": _FINAL_LABELS_SQL.format(
        note_ids="SELECT value::bigint FROM json_array_elements_text(CAST(:notes AS json))"
    ),
}

# Donated audio whose donor's consent is still in force, each with its final label.
DONATED_CLIPS_SQL = """
    WITH tally AS (
        SELECT v.note_id, v.label, COUNT(*) AS n, MIN(v.created_at) AS first_at, MIN(v.id) AS first_id
        FROM votes v JOIN notes n ON n.id = v.note_id
        WHERE n.audio_path IS NOT NULL
        GROUP BY v.note_id, v.label
    ), ranked AS (
        SELECT note_id, label,
               ROW_NUMBER() OVER (PARTITION BY note_id ORDER BY n DESC, first_at, first_id) AS rank
        FROM tally
    )
    SELECT n.id AS note_id, n.audio_path, p.platform, p.id AS person_id, r.label
    FROM ranked r JOIN notes n ON n.id = r.note_id JOIN persons p ON p.id = n.person_id
    WHERE r.rank = 1 AND EXISTS (
        SELECT 1 FROM consents c
        WHERE c.person_id = p.id AND c.kind = 'donate_audio' AND c.withdrawn_at IS NULL)
    ORDER BY n.id
"""

# Everything add_note must know, read inside its transaction so a withdrawal cannot slip between.
PERMISSIONS_SQL = """
    SELECT EXISTS (SELECT 1 FROM persons WHERE id = :person) AS person_exists,
           c.kind, COALESCE(s.analysis, 1) AS analysis,
           EXISTS (SELECT 1 FROM consents WHERE person_id = :person AND kind = 'analyse'
                   AND chat_id = :chat AND withdrawn_at IS NULL) AS analyse,
           EXISTS (SELECT 1 FROM consents WHERE person_id = :person AND kind = 'donate_audio'
                   AND withdrawn_at IS NULL) AS donate
    FROM chats c LEFT JOIN chat_settings s ON s.chat_id = c.id WHERE c.id = :chat
"""

# forget_person's deletes, in an order that never leaves a dangling reference; names are counts.
FORGET_STEPS: tuple[tuple[str, str], ...] = (
    (
        "votes_on_their_notes",
        "DELETE FROM votes WHERE voter_id != :person"
        " AND note_id IN (SELECT id FROM notes WHERE person_id = :person)",
    ),
    ("votes_cast", "DELETE FROM votes WHERE voter_id = :person"),
    ("notes", "DELETE FROM notes WHERE person_id = :person"),
    ("consents", "DELETE FROM consents WHERE person_id = :person"),
    ("chats", "DELETE FROM chats WHERE owner_id = :person"),
    ("baseline_stats", "DELETE FROM baselines WHERE person_id = :person"),
    ("cue_stats", "DELETE FROM cue_baselines WHERE person_id = :person"),
    ("baselines", "DELETE FROM baseline_consents WHERE person_id = :person"),
    ("words", "DELETE FROM label_words WHERE person_id = :person"),
    ("practice_session_tones", "DELETE FROM practice_session_tones WHERE person_id = :person"),
    ("practice_sessions", "DELETE FROM practice_sessions WHERE person_id = :person"),
    ("practice_scores", "DELETE FROM practice_scores WHERE person_id = :person"),
    ("person", "DELETE FROM persons WHERE id = :person"),
)
