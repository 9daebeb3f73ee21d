"""Dataset readers on small trees in each corpus's documented layout, manifests and speaker splits."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from data_augment.datasets import (
    READERS,
    Clip,
    DatasetError,
    aggregate_votes,
    leave_one_speaker_out,
    read_aihub6,
    read_aihub7,
    read_crema_d,
    read_dataset,
    read_emodb,
    read_iemocap,
    read_kesdy18,
    read_manifest,
    read_ravdess,
    read_tess,
    speaker_split,
    split_speakers,
    write_manifest,
)
from inference.labels import CANONICAL_LABELS, SCHEMES, to_canonical


def _audio(path: Path) -> Path:
    """A tiny real audio file (50 ms of noise); the format follows the suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(path.name))
    sf.write(path, (0.1 * rng.standard_normal(800)).astype(np.float32), 16_000)
    return path


def _by_name(clips: list[Clip]) -> dict[str, Clip]:
    return {clip.path.name: clip for clip in clips}


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows(rows)
    return path


# --- readers ---------------------------------------------------------------------------------


def test_ravdess_original_layout_takes_emotion_intensity_and_actor_from_file_names(tmp_path):
    _audio(tmp_path / "Actor_01" / "03-01-05-02-01-01-01.wav")
    _audio(tmp_path / "Actor_02" / "03-01-01-01-02-02-02.flac")
    _audio(tmp_path / "Actor_02" / "03-02-03-01-01-01-02.wav")  # song, not speech
    _audio(tmp_path / "Actor_02" / "notes.wav")

    clips = _by_name(read_ravdess(tmp_path))

    assert set(clips) == {"03-01-05-02-01-01-01.wav", "03-01-01-01-02-02-02.flac"}
    angry = clips["03-01-05-02-01-01-01.wav"]
    assert (angry.label, angry.speaker, angry.corpus, angry.intensity) == (
        "angry",
        "ravdess:01",
        "ravdess",
        2.0,
    )
    neutral = clips["03-01-01-01-02-02-02.flac"]
    assert (neutral.label, neutral.speaker, neutral.intensity) == ("neutral", "ravdess:02", 1.0)


def test_ravdess_metadata_layout_is_read_from_its_csv(tmp_path):
    _write_csv(
        tmp_path / "metadata.csv",
        [
            ["path", "speaker", "sex", "emotion", "intensity", "statement", "repetition"],
            ["Actor_03/03-01-08-02-01-01-03.flac", "03", "M", "surprised", "strong", "01", "01"],
            ["Actor_04/03-01-02-01-01-01-04.flac", "04", "F", "calm", "normal", "01", "01"],
        ],
    )

    clips = read_ravdess(tmp_path)

    assert [(c.path, c.label, c.speaker, c.intensity) for c in clips] == [
        (tmp_path / "Actor_03/03-01-08-02-01-01-03.flac", "surprised", "ravdess:03", 2.0),
        (tmp_path / "Actor_04/03-01-02-01-01-01-04.flac", "calm", "ravdess:04", 1.0),
    ]


def test_emodb_original_layout_takes_the_emotion_letter_and_speaker_from_file_names(tmp_path):
    _audio(tmp_path / "wav" / "03a01Fa.wav")
    _audio(tmp_path / "wav" / "16b10Lb.wav")
    _audio(tmp_path / "wav" / "readme.wav")

    clips = _by_name(read_emodb(tmp_path))

    assert {name: (c.label, c.speaker) for name, c in clips.items()} == {
        "03a01Fa.wav": ("happy", "emodb:03"),
        "16b10Lb.wav": ("bored", "emodb:16"),
    }


def test_emodb_metadata_layout_maps_german_corpus_labels(tmp_path):
    _write_csv(
        tmp_path / "metadata.csv",
        [
            ["path", "speaker", "sex", "text_id", "emotion", "version"],
            ["08a02Wb.flac", "08", "F", "a02", "anger", "b"],
            ["08a02Ec.flac", "08", "F", "a02", "disgust", "c"],
        ],
    )

    clips = read_emodb(tmp_path)

    assert [(c.label, c.speaker, c.corpus) for c in clips] == [
        ("angry", "emodb:08", "emodb"),
        ("disgust", "emodb:08", "emodb"),
    ]


def test_crema_d_takes_actor_emotion_and_level_from_file_names(tmp_path):
    _audio(tmp_path / "AudioWAV" / "1001_DFA_ANG_XX.wav")
    _audio(tmp_path / "AudioWAV" / "1091_IEO_SAD_HI.wav")
    _audio(tmp_path / "AudioWAV" / "1012_TIE_FEA_LO.wav")

    clips = _by_name(read_crema_d(tmp_path))

    assert {name: (c.label, c.speaker, c.intensity) for name, c in clips.items()} == {
        "1001_DFA_ANG_XX.wav": ("angry", "crema-d:1001", 1.0),
        "1091_IEO_SAD_HI.wav": ("sad", "crema-d:1091", 2.0),
        "1012_TIE_FEA_LO.wav": ("fearful", "crema-d:1012", 0.5),
    }


def test_tess_takes_the_speaker_group_and_emotion_from_file_names(tmp_path):
    _audio(tmp_path / "OAF_angry" / "OAF_back_angry.wav")
    _audio(tmp_path / "YAF_pleasant_surprised" / "YAF_dog_ps.wav")
    _audio(tmp_path / "YAF_fear" / "YAF_bean_fear.wav")

    clips = _by_name(read_tess(tmp_path))

    assert {name: (c.label, c.speaker) for name, c in clips.items()} == {
        "OAF_back_angry.wav": ("angry", "tess:OAF"),
        "YAF_dog_ps.wav": ("surprised", "tess:YAF"),
        "YAF_bean_fear.wav": ("fearful", "tess:YAF"),
    }


def test_iemocap_keeps_four_classes_merges_excited_into_happy_and_names_session_speakers(
    tmp_path,
):
    session = tmp_path / "Session1"
    evaluation = session / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt"
    evaluation.parent.mkdir(parents=True)
    evaluation.write_text(
        "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
        "C-E2:\tNeutral;\t()\n"
        "C-E4:\tNeutral;\t()\n\n"
        "[10.0100 - 11.3925]\tSes01F_impro01_M001\texc\t[3.5000, 3.5000, 3.0000]\n"
        "[14.8872 - 18.0175]\tSes01F_impro01_F002\tfru\t[2.0000, 3.5000, 3.5000]\n"
        "[19.2900 - 20.7875]\tSes01F_impro01_M003\tang\t[1.5000, 4.0000, 4.0000]\n"
        "[21.0000 - 22.0000]\tSes01F_impro01_F004\tsad\t[2.0000, 2.0000, 2.0000]\n",
        encoding="utf-8",
    )
    wavs = session / "sentences" / "wav" / "Ses01F_impro01"
    for turn in ("F000", "M001", "F002", "M003"):  # F004's audio is missing
        _audio(wavs / f"Ses01F_impro01_{turn}.wav")

    clips = _by_name(read_iemocap(tmp_path))

    assert {name: (c.label, c.speaker) for name, c in clips.items()} == {
        "Ses01F_impro01_F000.wav": ("neutral", "iemocap:Ses01F"),
        "Ses01F_impro01_M001.wav": ("happy", "iemocap:Ses01M"),
        "Ses01F_impro01_M003.wav": ("angry", "iemocap:Ses01M"),
    }


AIHUB_263_HEADERS = [
    "wav_id",
    "발화문",
    "상황",
    "1번 감정",
    "1번 감정세기",
    "2번 감정",
    "2번 감정세기",
    "3번 감정",
    "3번 감정세기",
    "4번 감정",
    "4번감정세기",
    "5번 감정",
    "5번 감정세기",
    "나이",
    "성별",
]


def _aihub_row(wav_id: str, votes: list[tuple[str, int]]) -> list[str]:
    cells = [wav_id, "문장", "happiness"]
    for label, intensity in votes:
        cells += [label, str(intensity)]
    return [*cells, "30", "female"]


def test_aihub7_reads_the_cp949_five_annotator_table_and_aggregates_votes(tmp_path):
    _write_csv(
        tmp_path / "4차년도.csv",
        [
            AIHUB_263_HEADERS,
            _aihub_row("5f05a1", [("Angry", 1)] * 3 + [("Neutral", 1)] * 2),
            # Happiness 2 vs Sadness 1+1: equal weight, so the more frequent label wins.
            _aihub_row(
                "5f05a2",
                [("Happiness", 2), ("Sadness", 1), ("Sadness", 1), ("Neutral", 0), ("Neutral", 0)],
            ),
            _aihub_row("5f05a3", [("Fear", 2)] * 5),  # no audio: left out
        ],
        encoding="cp949",
    )
    _audio(tmp_path / "4차년도" / "5f05a1.wav")
    _audio(tmp_path / "4차년도" / "5f05a2.wav")

    clips = _by_name(read_aihub7(tmp_path))

    assert {name: (c.label, c.speaker, c.corpus) for name, c in clips.items()} == {
        "5f05a1.wav": ("angry", "aihub7:5f05a1", "aihub7"),
        "5f05a2.wav": ("sad", "aihub7:5f05a2", "aihub7"),
    }
    assert clips["5f05a1.wav"].intensity == 1.0


def test_aihub6_reads_the_single_label_table_with_persona_speakers(tmp_path):
    _write_csv(
        tmp_path / "labels.csv",
        [
            ["talk-id", "profile-id", "감정_대분류"],
            ["Pro_05349_00062", "Pro_05349", "상처"],
            ["Pro_05349_00063", "Pro_05349", "당황"],
            ["Pro_07000_00001", "Pro_07000", "기쁨"],
        ],
    )
    for name in ("Pro_05349_00062", "Pro_05349_00063", "Pro_07000_00001"):
        _audio(tmp_path / "wav" / f"{name}.wav")

    clips = _by_name(read_aihub6(tmp_path))

    assert {name: (c.label, c.speaker) for name, c in clips.items()} == {
        "Pro_05349_00062.wav": ("sad", "aihub6:Pro_05349"),
        "Pro_05349_00063.wav": ("surprised", "aihub6:Pro_05349"),
        "Pro_07000_00001.wav": ("happy", "aihub6:Pro_07000"),
    }


def test_kesdy18_reads_the_etri_two_row_header_annotation_and_votes_over_evaluators(tmp_path):
    top = ["Numb", "Wav", "", "Segment ID", "Total Evaluation", "", ""]
    sub = ["", "start", "end", "", "Emotion", "Valence", "Arousal"]
    for evaluator in ("Eval01F", "Eval02M", "Eval03M"):
        top += [evaluator, "", ""]
        sub += ["Emotion", "Valence", "Arousal"]
    _write_csv(
        tmp_path / "annotation" / "KESDy18_eval.csv",
        [
            top,
            sub,
            ["1", "0", "2", "Sess01_script01_F001", "angry", "2", "4"]
            + ["angry", "2", "4", "angry", "2", "4", "neutral", "3", "3"],
            ["2", "0", "2", "Sess01_script02_M001", "sad", "2", "2"]
            + ["sad", "2", "2", "surprise", "3", "4", "sad", "2", "2"],
        ],
    )
    _audio(tmp_path / "wav" / "Session01" / "Sess01_script01_F001.wav")
    _audio(tmp_path / "wav" / "Session01" / "Sess01_script02_M001.wav")

    clips = _by_name(read_kesdy18(tmp_path))

    assert {name: (c.label, c.speaker) for name, c in clips.items()} == {
        "Sess01_script01_F001.wav": ("angry", "kesdy18:Sess01F"),
        "Sess01_script02_M001.wav": ("sad", "kesdy18:Sess01M"),
    }


def test_kesdy18_emotion_folders_are_read_when_there_is_no_annotation(tmp_path):
    _audio(tmp_path / "angry" / "a_01.wav")
    _audio(tmp_path / "happy" / "h_01.wav")
    _audio(tmp_path / "other" / "x_01.wav")

    clips = _by_name(read_kesdy18(tmp_path))

    assert {name: c.label for name, c in clips.items()} == {
        "a_01.wav": "angry",
        "h_01.wav": "happy",
    }
    assert len({c.speaker for c in clips.values()}) == 2


# --- labels and votes ------------------------------------------------------------------------


def test_every_label_of_every_scheme_maps_into_the_canonical_set_and_canonical_is_a_fixed_point():
    for scheme, table in SCHEMES.items():
        for native in table:
            assert to_canonical(native, scheme) in CANONICAL_LABELS, (scheme, native)
    for label in CANONICAL_LABELS:
        assert to_canonical(label) == label


def test_every_reader_has_a_label_scheme():
    assert set(READERS) <= set(SCHEMES)


def test_aggregate_votes_weighs_intensity_over_head_count():
    assert aggregate_votes([("sad", 1), ("sad", 1), ("angry", 3)]) == "angry"


def test_aggregate_votes_breaks_an_intensity_tie_by_the_most_frequent_label():
    assert aggregate_votes([("happy", 2.0), ("sad", 1.0), ("sad", 1.0)]) == "sad"
    assert aggregate_votes([("sad", 0.1), ("sad", 0.2), ("happy", 0.3)]) == "sad"


def test_aggregate_votes_breaks_a_full_tie_by_the_first_vote():
    assert aggregate_votes([("neutral", 1), ("happy", 1)]) == "neutral"
    assert aggregate_votes([("happy", 1), ("neutral", 1)]) == "happy"


def test_aggregate_votes_refuses_no_votes():
    with pytest.raises(ValueError):
        aggregate_votes([])


# --- manifests and specs ---------------------------------------------------------------------


def test_manifest_write_then_read_gives_back_equal_clips(tmp_path):
    clips = [
        Clip(tmp_path / "audio" / "a.wav", "happy", "ravdess:01", "ravdess", 2.0),
        Clip(tmp_path / "elsewhere" / "b.flac", "bored", "emodb:03", "emodb"),
        Clip(tmp_path / "c.ogg", "other", "feedback:user-7", "feedback", 0.25),
    ]
    manifest = tmp_path / "out" / "manifest.csv"

    write_manifest(clips, manifest)

    assert read_manifest(manifest) == clips
    assert "../audio/a.wav" in manifest.read_text()  # relative, so the folder can move


def test_manifest_without_speakers_accepts_aliases_and_gives_each_file_its_own_speaker(tmp_path):
    manifest = _write_csv(
        tmp_path / "feedback.csv",
        [["path", "label"], ["notes/1.ogg", "Happiness"], ["notes/2.ogg", "ang"]],
    )

    clips = read_manifest(manifest)

    assert [(c.path, c.label, c.corpus) for c in clips] == [
        (tmp_path / "notes" / "1.ogg", "happy", "feedback"),
        (tmp_path / "notes" / "2.ogg", "angry", "feedback"),
    ]
    assert clips[0].speaker != clips[1].speaker


def test_read_dataset_joins_several_specs(tmp_path):
    _audio(tmp_path / "crema" / "AudioWAV" / "1001_DFA_ANG_XX.wav")
    _audio(tmp_path / "tess" / "OAF_back_angry.wav")
    manifest = _write_csv(tmp_path / "extra.csv", [["path", "label"], ["x.wav", "sad"]])

    clips = read_dataset(
        [f"crema-d:{tmp_path / 'crema'}", f"tess:{tmp_path / 'tess'}", str(manifest)]
    )

    assert [c.corpus for c in clips] == ["crema-d", "tess", "extra"]


def test_read_dataset_names_the_known_kinds_for_an_unknown_one():
    with pytest.raises(ValueError, match="ravdess:<folder>"):
        read_dataset("savee:/data/savee")


def test_read_dataset_reports_a_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_dataset(f"ravdess:{tmp_path / 'nowhere'}")


# --- splits ----------------------------------------------------------------------------------


def _clips(corpus: str, speakers: int, per_speaker: int = 3) -> list[Clip]:
    return [
        Clip(Path(f"{corpus}/{s}/{i}.wav"), "neutral", f"{corpus}:{s:02d}", corpus)
        for s in range(speakers)
        for i in range(per_speaker)
    ]


def test_split_speakers_never_shares_a_speaker_and_gives_every_part_every_corpus():
    clips = _clips("ravdess", 20) + _clips("emodb", 10) + _clips("tess", 2)

    split = split_speakers(clips, seed=3)

    speakers = [{c.speaker for c in part} for part in split]
    assert not (speakers[0] & speakers[1] or speakers[0] & speakers[2] or speakers[1] & speakers[2])
    assert sum(len(part) for part in split) == len(clips)
    for part in (split.train, split.val, split.test):
        assert {"ravdess", "emodb"} <= {c.corpus for c in part}
    assert len({c.speaker for c in split.train if c.corpus == "ravdess"}) == 14


def test_split_speakers_is_deterministic_under_its_seed():
    clips = _clips("ravdess", 20)

    assert split_speakers(clips, seed=1) == split_speakers(list(clips), seed=1)
    assert split_speakers(clips, seed=1) != split_speakers(clips, seed=2)


def test_speaker_split_puts_exactly_the_named_speakers_in_test():
    clips = _clips("emodb", 4)

    train, test = speaker_split(clips, {"emodb:01", "emodb:03"})

    assert {c.speaker for c in test} == {"emodb:01", "emodb:03"}
    assert {c.speaker for c in train} == {"emodb:00", "emodb:02"}


def test_leave_one_speaker_out_holds_out_each_speaker_once():
    clips = _clips("emodb", 3)

    folds = list(leave_one_speaker_out(clips))

    assert [speaker for speaker, _, _ in folds] == ["emodb:00", "emodb:01", "emodb:02"]
    for speaker, train, test in folds:
        assert {c.speaker for c in test} == {speaker}
        assert speaker not in {c.speaker for c in train}
        assert len(train) + len(test) == len(clips)


# --- the real shared corpora -----------------------------------------------------------------


def test_shared_ravdess_metadata_gives_1200_clips_of_20_actors(shared_data):
    clips = read_dataset(f"ravdess:{shared_data / 'ravdess'}")

    assert len(clips) == 1200
    assert len({c.speaker for c in clips}) == 20
    counts = Counter(c.label for c in clips)
    assert counts == {"neutral": 80} | {
        label: 160 for label in ("calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    }
    assert all(c.path.is_file() for c in clips)


def test_shared_emodb_metadata_gives_535_clips_of_10_speakers(shared_data):
    clips = read_dataset(f"emodb:{shared_data / 'emodb'}")

    assert len(clips) == 535
    assert len({c.speaker for c in clips}) == 10
    assert Counter(c.label for c in clips) == {
        "angry": 127,
        "bored": 81,
        "disgust": 46,
        "fearful": 69,
        "happy": 71,
        "neutral": 79,
        "sad": 62,
    }
    assert all(c.path.is_file() for c in clips)
