"""Labelled speech corpora read into one list of clips, and speaker-independent splits of it.

Every reader maps its corpus's own labels through `inference.labels.to_canonical` (the one label
table), and names speakers "<corpus>:<id>" so no two corpora can share a speaker. `read_dataset`
takes the specs the CLI passes ("ravdess:/data/ravdess", "feedback.csv", ...).
"""

from __future__ import annotations

import csv
import os
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from common.audio import DATASET_SUFFIXES as AUDIO_SUFFIXES
from inference.labels import SCHEMES, to_canonical


@dataclass(frozen=True)
class Clip:
    """One labelled recording."""

    path: Path
    label: str  # canonical
    speaker: str  # "<corpus>:<id>", unique across corpora
    corpus: str
    # 1.0 is the corpus's normal intensity, higher is stronger (RAVDESS strong = 2.0; AI-Hub: the
    # mean 감정세기 of the winning votes).
    intensity: float = 1.0


class DatasetError(ValueError):
    """A dataset spec, folder or manifest that cannot be read; the message says why."""


class SpeakerSplit(NamedTuple):
    """Train, validation and test clips with no speaker in two parts."""

    train: list[Clip]
    val: list[Clip]
    test: list[Clip]


# --- RAVDESS -----------------------------------------------------------------------------------

_RAVDESS_INTENSITY = {"normal": 1.0, "strong": 2.0, "01": 1.0, "02": 2.0}


def read_ravdess(root: Path) -> list[Clip]:
    """RAVDESS speech: the shared copy's metadata.csv, else the original Actor_XX/03-01-EE-II-SS-RR-AA files."""
    root = _folder(root)
    if (root / "metadata.csv").is_file():
        return [
            Clip(
                path=root / row["path"],
                label=to_canonical(row["emotion"], "ravdess"),
                speaker=f"ravdess:{_two_digits(row['speaker'])}",
                corpus="ravdess",
                intensity=_RAVDESS_INTENSITY[row["intensity"].strip().lower()],
            )
            for row in _csv_rows(root / "metadata.csv")
        ]
    clips = []
    for path in _audio_files(root):
        fields = path.stem.split("-")
        # Field 2 is the vocal channel: 01 speech, 02 song (not speech, so left out).
        if len(fields) != 7 or fields[1] != "01":
            continue
        clips.append(
            Clip(
                path=path,
                label=to_canonical(fields[2], "ravdess"),
                speaker=f"ravdess:{fields[6]}",
                corpus="ravdess",
                intensity=_RAVDESS_INTENSITY[fields[3]],
            )
        )
    return clips


# --- EmoDB -------------------------------------------------------------------------------------

# SSTTTEV: speaker SS, text TTT, emotion letter E, version V.
_EMODB_NAME = re.compile(r"^(\d{2})[a-z]\d{2}([WLEAFTN])[a-z]$")


def read_emodb(root: Path) -> list[Clip]:
    """EmoDB: the shared copy's metadata.csv, else the original wav/SSTTTEV.wav files."""
    root = _folder(root)
    if (root / "metadata.csv").is_file():
        return [
            Clip(
                path=root / row["path"],
                label=to_canonical(row["emotion"], "emodb"),
                speaker=f"emodb:{_two_digits(row['speaker'])}",
                corpus="emodb",
            )
            for row in _csv_rows(root / "metadata.csv")
        ]
    clips = []
    for path in _audio_files(root / "wav" if (root / "wav").is_dir() else root):
        match = _EMODB_NAME.match(path.stem)
        if match:
            speaker, letter = match.groups()
            clips.append(Clip(path, to_canonical(letter, "emodb"), f"emodb:{speaker}", "emodb"))
    return clips


# --- nEMO (Polish) and the Korean set: the shared copies' metadata.csv layout ------------------


def read_nemo(root: Path) -> list[Clip]:
    """nEMO (Christop 2024): Polish acted speech, 9 speakers, Ogg/Opus, in the shared layout."""
    return _read_metadata(root, "nemo")


def read_korean(root: Path) -> list[Clip]:
    """Korean acted speech (emotiontts): 5 speakers reading the same sentences in 4 emotions."""
    return _read_metadata(root, "korean")


def _read_metadata(root: Path, corpus: str) -> list[Clip]:
    root = _folder(root)
    return [
        Clip(
            path=root / row["path"],
            label=to_canonical(row["emotion"], corpus),
            speaker=f"{corpus}:{row['speaker'].strip()}",
            corpus=corpus,
        )
        for row in _csv_rows(root / "metadata.csv")
    ]


# --- URDU (evaluation only) ---------------------------------------------------------------------


def read_urdu(root: Path) -> list[Clip]:
    """URDU (Latif et al. 2018): spontaneous talk-show speech, 4 classes, in the shared layout.

    Its licence allows research use only: score models on it, never train a shipped one on it.
    """
    root = _folder(root)
    return [
        Clip(
            path=root / row["path"],
            label=to_canonical(row["emotion"], "urdu"),
            speaker=f"urdu:{row['speaker']}",
            corpus="urdu",
        )
        for row in _csv_rows(root / "metadata.csv")
    ]


# --- CREMA-D -----------------------------------------------------------------------------------

_CREMA_INTENSITY = {"LO": 0.5, "MD": 1.0, "HI": 2.0, "XX": 1.0}  # XX: unspecified


def read_crema_d(root: Path) -> list[Clip]:
    """CREMA-D: AudioWAV/<actor>_<sentence>_<EMO>_<level>.wav, e.g. 1001_DFA_ANG_XX.wav."""
    root = _folder(root)
    clips = []
    for path in _audio_files(root / "AudioWAV" if (root / "AudioWAV").is_dir() else root):
        fields = path.stem.split("_")
        if len(fields) != 4 or not fields[0].isdigit():
            continue
        actor, _sentence, emotion, level = fields
        clips.append(
            Clip(
                path=path,
                label=to_canonical(emotion, "crema-d"),
                speaker=f"crema-d:{actor}",
                corpus="crema-d",
                intensity=_CREMA_INTENSITY.get(level.upper(), 1.0),
            )
        )
    return clips


# --- TESS --------------------------------------------------------------------------------------


def read_tess(root: Path) -> list[Clip]:
    """TESS: <OAF|YAF>_<word>_<emotion>.wav in any folder, e.g. OAF_back_angry.wav, YAF_dog_ps.wav."""
    root = _folder(root)
    clips = []
    for path in _audio_files(root):
        fields = path.stem.split("_", 2)
        if len(fields) != 3 or fields[0].upper() not in ("OAF", "YAF"):
            continue
        speaker, _word, emotion = fields
        clips.append(Clip(path, to_canonical(emotion, "tess"), f"tess:{speaker.upper()}", "tess"))
    return clips


# --- IEMOCAP -----------------------------------------------------------------------------------

# "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]"
_IEMOCAP_LINE = re.compile(r"^\[[\d.]+ - [\d.]+\]\t(\S+)\t(\S+)\t\[")
# The SUPERB emotion-recognition convention: four classes, excited counted as happy.
_IEMOCAP_KEPT = frozenset({"neu", "hap", "exc", "ang", "sad"})


def read_iemocap(root: Path) -> list[Clip]:
    """IEMOCAP, 4 classes: Session*/dialog/EmoEvaluation/*.txt with Session*/sentences/wav/<dialog>/<turn>.wav.

    The consensus label of each turn's summary line is used (the per-evaluator lines below it
    are already reduced to it). Speaker = session + the gender letter of the turn ("Ses01M").
    Turns whose audio is missing are left out.
    """
    root = _folder(root)
    clips = []
    for session in sorted(p for p in root.glob("Session*") if p.is_dir()):
        for evaluation in sorted((session / "dialog" / "EmoEvaluation").glob("*.txt")):
            for line in evaluation.read_text(encoding="utf-8", errors="replace").splitlines():
                match = _IEMOCAP_LINE.match(line)
                if not match or match.group(2) not in _IEMOCAP_KEPT:
                    continue
                turn, label = match.groups()
                dialog, turn_id = turn.rsplit("_", 1)
                path = session / "sentences" / "wav" / dialog / f"{turn}.wav"
                if path.is_file():
                    speaker = f"iemocap:{turn[:5]}{turn_id[0].upper()}"
                    clips.append(Clip(path, to_canonical(label, "iemocap"), speaker, "iemocap"))
    return clips


# --- AI-Hub (Korean) ---------------------------------------------------------------------------


def read_aihub6(root: Path) -> list[Clip]:
    """AI-Hub Korean, 6 classes (감성 대화 말뭉치: 기쁨 당황 분노 불안 상처 슬픔); see `read_aihub`."""
    return read_aihub(root, scheme="aihub6", corpus="aihub6")


def read_aihub7(root: Path) -> list[Clip]:
    """AI-Hub Korean, 7 classes (감정 분류를 위한 대화 음성 데이터셋, dataSetSn 263); see `read_aihub`."""
    return read_aihub(root, scheme="aihub7", corpus="aihub7")


def read_aihub(root: Path, *, scheme: str, corpus: str) -> list[Clip]:
    """AI-Hub emotion-speech label CSVs (UTF-8 or CP949) anywhere under `root`, audio found by id.

    Formats found documented (the speech part's own documentation is thin):
    - dataSetSn 263 (4차년도.csv, 5차년도.csv, 5차년도_2차.csv): `wav_id, 발화문, 상황, 1번 감정,
      1번 감정세기, ..., 5번 감정, 5번 감정세기, 나이, 성별`; five annotators' labels aggregate by
      `aggregate_votes`. It names no speaker, so each file is its own speaker.
    - 감성 대화 말뭉치 tables: one `감정_대분류` column per row, an id column and, where present, a
      `profile-id`/`persona-id` column used as the speaker.
    Rows whose audio file (`<id>.wav`) is not under `root` are left out.
    """
    root = _folder(root)
    audio = _audio_index(root)
    clips = []
    for table in sorted(root.rglob("*.csv")):
        for row in _csv_rows(table):
            row = {_squash(key): (value or "").strip() for key, value in row.items() if key}
            clip_id = next((row[key] for key in _AIHUB_ID_COLUMNS if row.get(key)), "")
            path = audio.get(Path(clip_id).stem)
            if path is None:
                continue
            votes = _aihub_votes(row, scheme)
            if votes:
                label = aggregate_votes(votes)
                winning = [intensity for vote, intensity in votes if vote == label]
                intensity = sum(winning) / len(winning)
            elif row.get("감정_대분류"):
                label, intensity = to_canonical(row["감정_대분류"], scheme), 1.0
            else:
                continue
            speaker = next((row[key] for key in _AIHUB_SPEAKER_COLUMNS if row.get(key)), clip_id)
            clips.append(Clip(path, label, f"{corpus}:{speaker}", corpus, intensity))
    return clips


_AIHUB_ID_COLUMNS = ("wav_id", "talk-id", "id", "파일명", "file", "path")
_AIHUB_SPEAKER_COLUMNS = ("speaker", "speaker_id", "화자", "profile-id", "persona-id")


def _aihub_votes(row: dict[str, str], scheme: str) -> list[tuple[str, float]]:
    """The annotators' (canonical label, intensity) pairs of one row: columns "N번감정", "N번감정세기"."""
    votes = []
    for n in range(1, 11):
        label = row.get(f"{n}번감정")
        if label:
            intensity = row.get(f"{n}번감정세기") or "1"
            votes.append((to_canonical(label, scheme), float(intensity)))
    return votes


def aggregate_votes(votes: Sequence[tuple[str, float]]) -> str:
    """The label with the largest summed intensity; a tie goes to the label most annotators chose.

    This is the AI-Hub convention. A tie in both goes to the label voted first, so the answer never
    depends on dict or set order.
    """
    if not votes:
        raise ValueError("aggregate_votes needs at least one vote")
    weight: dict[str, float] = defaultdict(float)
    count: Counter[str] = Counter()
    first: dict[str, int] = {}
    for order, (label, intensity) in enumerate(votes):
        weight[label] += intensity
        count[label] += 1
        first.setdefault(label, order)
    # Rounded so that 0.1 + 0.2 ties with 0.3 as a person would count it.
    return max(weight, key=lambda label: (round(weight[label], 6), count[label], -first[label]))


# --- ETRI KESDy18 ------------------------------------------------------------------------------

_ETRI_EVALUATOR = re.compile(r"^eval\d+[a-z]*_emotion$", re.IGNORECASE)


def read_kesdy18(root: Path) -> list[Clip]:
    """ETRI KESDy18 (neutral, happy, sad, angry; 30 voice actors, 2,880 files).

    Its own page documents no file layout we could find, so two forms are read:
    - the ETRI annotation CSV documented for its sibling corpora KEMDy19/KEMDy20: two header rows
      (`Numb, Wav(start, end), Segment ID, Total Evaluation(Emotion, Valence, Arousal),
      Eval01F(Emotion, ...), ...`), audio `<Segment ID>.wav` anywhere under `root`; the
      evaluators' labels aggregate by `aggregate_votes` (labels outside the four are not counted),
      and the speaker is the `User...` part of the id, else its session plus gender letter;
    - without annotation CSVs, the redistributed `<emotion>/<file>.wav` folders (one speaker per file,
      as those copies carry no speaker id).
    """
    root = _folder(root)
    tables = {table: _etri_rows(table) for table in sorted(root.rglob("*.csv"))}
    if not any(tables.values()):
        return [
            Clip(path, to_canonical(path.parent.name, "kesdy18"), f"kesdy18:{path.stem}", "kesdy18")
            for path in _audio_files(root)
            if path.parent.name.lower() in _kesdy18_labels()
        ]
    audio = _audio_index(root)
    clips = []
    for rows in tables.values():
        for row in rows:
            segment = row.get("Segment ID", "")
            path = audio.get(segment)
            votes = [
                (to_canonical(value, "kesdy18"), 1.0)
                for key, value in row.items()
                if _ETRI_EVALUATOR.match(key) and value.strip().lower() in _kesdy18_labels()
            ]
            if path is None or not votes:
                continue
            speaker = f"kesdy18:{_etri_speaker(segment)}"
            clips.append(Clip(path, aggregate_votes(votes), speaker, "kesdy18"))
    return clips


def _kesdy18_labels() -> set[str]:
    return set(SCHEMES["kesdy18"])


def _etri_rows(table: Path) -> list[dict[str, str]]:
    """Rows of an ETRI annotation CSV with its two header rows flattened ("Eval01F_Emotion"); [] if not one."""
    with open(table, newline="", encoding=_encoding(table)) as f:
        lines = list(csv.reader(f))
    if len(lines) < 2 or "Segment ID" not in [cell.strip() for cell in lines[0]]:
        return []
    names, top = [], ""
    for upper, lower in zip(lines[0], lines[1] + [""] * len(lines[0]), strict=False):
        top = upper.strip() or top
        names.append(f"{top}_{lower.strip()}" if lower.strip() else top)
    return [dict(zip(names, (cell.strip() for cell in line), strict=False)) for line in lines[2:]]


def _etri_speaker(segment: str) -> str:
    """The speaker in an ETRI segment id: "User002M" if named, else session + gender ("Sess01M")."""
    user = re.search(r"User\d+[FM]?", segment)
    if user:
        return user.group(0)
    session = re.match(r"(Sess(?:ion)?\d+)", segment)
    gender = re.search(r"_([FM])\d*(?:_\d+)?$", segment)
    if session and gender:
        return session.group(1) + gender.group(1)
    return segment


# --- Manifests ---------------------------------------------------------------------------------

MANIFEST_COLUMNS = ("path", "label", "speaker", "corpus", "intensity")


def read_manifest(csv_path: Path) -> list[Clip]:
    """Clips from a `path,label[,speaker[,corpus[,intensity]]]` CSV; paths relative to its folder.

    Labels may be canonical or any alias `to_canonical` knows. The corpus defaults to the file's
    stem; a missing speaker makes each file its own speaker.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DatasetError(f"manifest {csv_path} does not exist")
    rows = _csv_rows(csv_path)
    if rows and not {"path", "label"} <= set(rows[0]):
        raise DatasetError(f"manifest {csv_path} needs the columns path and label")
    clips = []
    for row in rows:
        corpus = (row.get("corpus") or "").strip() or csv_path.stem
        relative = row["path"].strip()
        speaker = (row.get("speaker") or "").strip() or relative
        clips.append(
            Clip(
                path=Path(os.path.normpath(csv_path.parent / relative)),
                label=to_canonical(row["label"]),
                speaker=speaker if ":" in speaker else f"{corpus}:{speaker}",
                corpus=corpus,
                intensity=float((row.get("intensity") or "").strip() or 1.0),
            )
        )
    return clips


def write_manifest(clips: Iterable[Clip], csv_path: Path) -> None:
    """Write clips as a manifest `read_manifest` reads back to equal clips; paths relative where possible."""
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(MANIFEST_COLUMNS)
        for clip in clips:
            writer.writerow(
                [_relative(clip.path, csv_path.parent), clip.label, clip.speaker, clip.corpus]
                + [repr(clip.intensity)]
            )


def _relative(path: Path, folder: Path) -> str:
    try:
        return os.path.relpath(path, folder)
    except ValueError:  # another drive on Windows
        return str(path)


# --- Specs -------------------------------------------------------------------------------------

READERS: dict[str, Callable[[Path], list[Clip]]] = {
    "ravdess": read_ravdess,
    "emodb": read_emodb,
    "crema-d": read_crema_d,
    "tess": read_tess,
    "iemocap": read_iemocap,
    "aihub6": read_aihub6,
    "aihub7": read_aihub7,
    "kesdy18": read_kesdy18,
    "nemo": read_nemo,
    "korean": read_korean,
    "urdu": read_urdu,
}

# The language each corpus speaks (ISO 639-1): the language baselines are kept per language.
CORPUS_LANGUAGES: dict[str, str] = {
    "ravdess": "en",
    "emodb": "de",
    "crema-d": "en",
    "tess": "en",
    "iemocap": "en",
    "aihub6": "ko",
    "aihub7": "ko",
    "kesdy18": "ko",
    "nemo": "pl",
    "korean": "ko",
    "urdu": "ur",
}


def read_dataset(spec: str | Sequence[str]) -> list[Clip]:
    """Clips of one spec ("ravdess:/data/ravdess", "feedback.csv") or of several, in order."""
    if not isinstance(spec, str):
        return [clip for one in spec for clip in read_dataset(one)]
    kind, sep, location = spec.partition(":")
    if sep and kind.lower() in READERS:
        clips = READERS[kind.lower()](Path(location))
    elif spec.lower().endswith(".csv"):
        clips = read_manifest(Path(spec))
    else:
        kinds = ", ".join(f"{name}:<folder>" for name in READERS)
        raise DatasetError(f"unknown dataset {spec!r}: use {kinds}, or a .csv manifest")
    if not clips:
        raise DatasetError(f"no labelled clips found for {spec!r}")
    return clips


# --- Speaker-independent splits ----------------------------------------------------------------


def speaker_split(
    clips: Iterable[Clip], test_speakers: Collection[str]
) -> tuple[list[Clip], list[Clip]]:
    """(train, test): the clips of `test_speakers` are the test part, all others train."""
    train: list[Clip] = []
    test: list[Clip] = []
    for clip in clips:
        (test if clip.speaker in test_speakers else train).append(clip)
    return train, test


def leave_one_speaker_out(clips: Sequence[Clip]) -> Iterator[tuple[str, list[Clip], list[Clip]]]:
    """(speaker, train, test) for each speaker in sorted order, the test part being that speaker's clips."""
    for speaker in sorted({clip.speaker for clip in clips}):
        train, test = speaker_split(clips, {speaker})
        yield speaker, train, test


def split_speakers(
    clips: Sequence[Clip], fractions: tuple[float, float, float] = (0.7, 0.15, 0.15), seed: int = 0
) -> SpeakerSplit:
    """Train/val/test with no speaker in two parts, drawn per corpus so each part holds every corpus.

    A corpus with at least three speakers gives each part one or more of them; with two, one goes
    to train and one to test; with one, it goes to train. The same clips and seed give the same split.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, not {fractions}"
        )
    speakers_of: dict[str, set[str]] = defaultdict(set)
    for clip in clips:
        speakers_of[clip.corpus].add(clip.speaker)
    part_of: dict[str, int] = {}
    for corpus, speakers in sorted(speakers_of.items()):
        ordered = sorted(speakers)
        # A string seed is hashed with SHA-512 by `random`, so this is stable across processes.
        random.Random(f"{seed}:{corpus}").shuffle(ordered)
        n_train, n_val, _ = _part_sizes(len(ordered), fractions)
        for index, speaker in enumerate(ordered):
            part_of[speaker] = 0 if index < n_train else 1 if index < n_train + n_val else 2
    parts: tuple[list[Clip], list[Clip], list[Clip]] = ([], [], [])
    for clip in clips:
        parts[part_of[clip.speaker]].append(clip)
    return SpeakerSplit(*parts)


def _part_sizes(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    _, val_fraction, test_fraction = fractions
    if n == 1:
        return 1, 0, 0
    if n == 2:
        return (1, 0, 1) if test_fraction > 0 else (1, 1, 0) if val_fraction > 0 else (2, 0, 0)
    n_val = max(1, round(n * val_fraction)) if val_fraction > 0 else 0
    n_test = max(1, round(n * test_fraction)) if test_fraction > 0 else 0
    while n - n_val - n_test < 1:  # train always keeps one speaker
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    return n - n_val - n_test, n_val, n_test


# --- Helpers -----------------------------------------------------------------------------------


def _folder(root: Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist")
    return root


def _audio_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def _audio_index(root: Path) -> dict[str, Path]:
    """Audio files under `root` by file stem (the id annotation files refer to)."""
    return {path.stem: path for path in _audio_files(root)}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding=_encoding(path)) as f:
        return list(csv.DictReader(f))


def _encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else CP949: AI-Hub and ETRI tables come in either."""
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "cp949"
    return "utf-8-sig"


def _squash(column: str) -> str:
    """A column name without spaces: AI-Hub writes both "4번 감정세기" and "4번감정세기"."""
    return re.sub(r"\s+", "", column)


def _two_digits(speaker: str) -> str:
    speaker = speaker.strip()
    return f"{int(speaker):02d}" if speaker.isdigit() else speaker
