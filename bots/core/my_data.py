"""/export: a copy of everything VoiceMood keeps about the asker, as CSV and JSON (GDPR Art. 15, 20).

Storage gathers the rows (Store.person_data); this turns them into two files a person can read
and take elsewhere: a CSV with one row per stored item, and a JSON file that says what each
part is. Private chats only: the files are the person's alone.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from bots.core.chats import Chats
from bots.core.values import Attachment, CommandContext, Reply
from bots.i18n import t
from inference.cues import CUE_NAMES, CueBaseline
from storage.person_data import PersonData

CSV_NAME = "voicemood-export.csv"
JSON_NAME = "voicemood-export.json"
CSV_COLUMNS = ("part", "id", "time_utc", "chat", "label", "value", "details")

# What each part of the JSON is, written into the file itself so it explains itself.
ABOUT = {
    "person": "You as VoiceMood knows you: platform, your id there, name, chosen language.",
    "chats": "Chats you talked to VoiceMood in: your private chat, and groups with your notes or opt-ins.",
    "notes": "Each analysed voice note: when, where, length, model, the tone heard (label), how sure (confidence), every tone's probability, the answer as sent, and whether its audio is kept (only with /donate on); kept audio is here too, the recording itself (format: its file type; base64: its bytes).",
    "votes": "Your corrections of notes' tones (buttons or reactions).",
    "consents": "Your opt-ins: 'analyse' per group (/optin), 'donate_audio' (/donate), with when given and withdrawn.",
    "baseline": "Your voice baseline (/baseline on): when switched on, and per model the running statistics of the model's numbers for your notes (count, size; the numbers themselves base64-encoded little-endian float64). Never audio.",
    "cue_statistics": "Running statistics of your voice cues under the same baseline (count, mean and M2 per cue). Never audio.",
    "words": "Your own words for tones (/words), label -> word.",
    "practice": "Practice mode (/practice): your running score per tone (attempts, how many were heard as the tone you aimed for, when last practised) and the session open now, if any. Your practice recordings are never kept.",
    "corrections": "Under your voice baseline: for each of your latest notes (and those you corrected), the model's numbers for it (its embedding, base64-encoded little-endian float32, and every tone's probability before your corrections moved it), and the tone you voted for it, if any. Your corrections teach VoiceMood your voice from these. Never audio.",
    "transcript": "Whether your notes' words are shown under the tone (/transcript on), since when. The words themselves are never kept.",
    "face": "Whether the faces in your video notes are read (/face on), since when, and when the hint about it was shown. Pictures and videos are never kept.",
    "language_statistics": "The languages (yours: your /lang, else your app's, else the chat's) whose running statistics count you once among the people whose notes they average (VOICEMOOD_LANGUAGE_BASELINE). Only that mark is yours: the statistics are everyone's notes averaged together, never audio and nobody's own numbers, and your notes cannot be taken back out of them.",
    "music": "Music for the mood (/music): match or lift, and the catalogue keys of the last three songs suggested to you (so the next ones differ), with when.",
}


class MyData:
    def __init__(self, chats: Chats) -> None:
        self.chats, self.store = chats, chats.store

    async def export_command(self, ctx: CommandContext) -> Reply:
        """/export: the two files, in a private chat."""
        if ctx.chat.kind == "group":
            return Reply(t(ctx.lang, "private_only"))
        data = await self.store.privacy.export(ctx.person)
        return Reply(t(ctx.lang, "export.done"), files=export_files(data))


def export_files(data: PersonData) -> tuple[Attachment, Attachment]:
    """The CSV and the JSON file of one person's data."""
    document = export_document(data)
    as_json = json.dumps(document, ensure_ascii=False, indent=2).encode()
    return (
        Attachment(CSV_NAME, _csv(document).encode("utf-8-sig"), "text/csv"),
        Attachment(JSON_NAME, as_json, "application/json"),
    )


def export_document(data: PersonData) -> dict[str, Any]:
    """Everything as plain JSON values, each part beside its explanation in "about"."""
    person, chats = data.person, {c.id: c for c in data.chats}
    return {
        "exported_at": _iso(datetime.now(UTC)),
        "about": ABOUT,
        "person": {
            "platform": person.platform,
            "user_id": person.platform_user_id,
            "name": person.display_name,
            "language": person.language,
            "first_seen": _iso(person.created_at),
        },
        "chats": [
            {"id": c.platform_chat_id, "kind": c.kind, "first_seen": _iso(c.created_at)}
            for c in data.chats
        ],
        "notes": [
            {
                "id": n.id,
                "time": _iso(n.created_at),
                "chat": chats[n.chat_id].platform_chat_id if n.chat_id in chats else None,
                "message_id": n.platform_message_id,
                "duration_s": n.duration_s,
                "model": n.model,
                "label": n.label,
                "confidence": n.confidence,
                "probabilities": n.probabilities,
                "answer": n.answer_text,
                "audio_kept": n.audio_path is not None,
                "audio": _audio(n.audio_path, data.audio.get(n.id)),
            }
            for n in data.notes
        ],
        "votes": [
            {
                "note_id": v.note_id,
                "label": v.label,
                "intensity": v.intensity,
                "time": _iso(v.created_at),
            }
            for v in data.votes_cast
        ],
        "consents": [
            {
                "kind": c.kind,
                "chat": chats[c.chat_id].platform_chat_id if c.chat_id in chats else None,
                "given": _iso(c.given_at),
                "withdrawn": _iso(c.withdrawn_at) if c.withdrawn_at else None,
            }
            for c in data.consents
        ],
        "baseline": {
            "on_since": _iso(data.baseline_granted_at) if data.baseline_granted_at else None,
            "statistics": [
                {
                    "model": b.encoder,
                    "notes": b.count,
                    "size": b.dim,
                    "updated": _iso(b.updated_at) if b.updated_at else None,
                    "stats_base64": base64.b64encode(b.stats).decode(),
                }
                for b in data.baselines
            ],
        },
        "cue_statistics": _cues(data),
        "words": dict(data.words),
        "transcript": {
            "on_since": _iso(data.transcript_on_since) if data.transcript_on_since else None
        },
        "practice": _practice(data),
        "face": {
            "on_since": _iso(data.face_on_since) if data.face_on_since else None,
            "hint_shown": _iso(data.face_hint_shown_at) if data.face_hint_shown_at else None,
        },
        "corrections": [
            {
                "note_id": c.note_id,
                "time": _iso(c.created_at),
                "model": c.model,
                "your_label": c.label,
                "probabilities": c.probabilities,
                "size": int(c.embedding.size),
                "embedding_base64": base64.b64encode(c.embedding.astype("<f4").tobytes()).decode(),
            }
            for c in data.correction_notes
        ],
        "music": None
        if data.music is None
        else {
            "mode": data.music.mode,
            "last_songs": list(data.music.last_songs),
            "updated": _iso(data.music.updated_at),
        },
        "language_statistics": list(data.language_statistics),
    }


def _audio(audio_path: str | None, kept: bytes | None) -> dict[str, str] | None:
    """A donated recording as JSON: its file type and its bytes, base64-encoded."""
    if audio_path is None or kept is None:
        return None
    return {"format": audio_path.rsplit(".", 1)[-1], "base64": base64.b64encode(kept).decode()}


def _no_audio(note: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in note.items() if key != "audio"}


def _practice(data: PersonData) -> dict[str, Any]:
    session = data.practice_session
    return {
        "scores": [
            {
                "tone": s.tone,
                "attempts": s.attempts,
                "hits": s.hits,
                "last_practised": _iso(s.last_practised_at),
            }
            for s in data.practice_scores
        ],
        "open_session": None
        if session is None
        else {
            "tone": session.tone,
            "recordings": session.rounds,
            "started": _iso(session.started_at),
            "last_active": _iso(session.active_at),
            "this_session": [
                {"tone": x.tone, "attempts": x.attempts, "hits": x.hits} for x in session.tallies
            ],
        },
    }


def _cues(data: PersonData) -> dict[str, Any] | None:
    kept = data.cue_statistics
    if kept is None:
        return None
    try:
        stats = CueBaseline.from_bytes(kept.stats)
    except ValueError:
        return {
            "updated": _iso(kept.updated_at),
            "stats_base64": base64.b64encode(kept.stats).decode(),
        }
    return {
        "updated": _iso(kept.updated_at),
        "cues": {
            name: {"count": count, "mean": mean, "m2": m2}
            for name, count, mean, m2 in zip(
                CUE_NAMES, stats.counts, stats.means, stats.m2s, strict=True
            )
        },
    }


def _csv(document: dict[str, Any]) -> str:
    """One row per stored item; what does not fit a column is in `details` as JSON."""
    rows: list[tuple[Any, ...]] = [
        (
            "person",
            document["person"]["user_id"],
            document["person"]["first_seen"],
            "",
            "",
            document["person"]["name"],
            _js(document["person"]),
        )
    ]
    rows += [
        ("chat", c["id"], c["first_seen"], c["id"], "", c["kind"], "") for c in document["chats"]
    ]
    rows += [
        # The recording itself only in the JSON file: a spreadsheet cell cannot hold one.
        ("note", n["id"], n["time"], n["chat"], n["label"], n["confidence"], _js(_no_audio(n)))
        for n in document["notes"]
    ]
    rows += [
        ("vote", v["note_id"], v["time"], "", v["label"], v["intensity"], "")
        for v in document["votes"]
    ]
    rows += [
        ("consent", c["kind"], c["given"], c["chat"] or "", "", c["withdrawn"] or "", "")
        for c in document["consents"]
    ]
    baseline = document["baseline"]
    if baseline["on_since"]:
        rows.append(("baseline", "", baseline["on_since"], "", "", "on", _js(baseline)))
    if document["cue_statistics"]:
        cues = document["cue_statistics"]
        rows.append(("cue_statistics", "", cues["updated"], "", "", "", _js(cues)))
    rows += [("word", label, "", "", label, word, "") for label, word in document["words"].items()]
    practice = document["practice"]
    rows += [
        ("practice_score", p["tone"], p["last_practised"], "", p["tone"], p["hits"], _js(p))
        for p in practice["scores"]
    ]
    if practice["open_session"]:
        opened = practice["open_session"]
        rows.append(
            ("practice_session", "", opened["started"], "", opened["tone"], "", _js(opened))
        )
    rows += [
        ("correction_note", c["note_id"], c["time"], "", c["your_label"] or "", c["size"], _js(c))
        for c in document["corrections"]
    ]
    if document["music"]:
        music = document["music"]
        rows.append(("music", "", music["updated"], "", "", music["mode"], _js(music)))
    if document["transcript"]["on_since"]:
        rows.append(("transcript", "", document["transcript"]["on_since"], "", "", "on", ""))
    face = document["face"]
    if face["on_since"] or face["hint_shown"]:
        state = "on" if face["on_since"] else "off"
        rows.append(("face", "", face["on_since"] or "", "", "", state, _js(face)))
    rows += [
        ("language_statistics", code, "", "", "", "counted", "")
        for code in document["language_statistics"]
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
