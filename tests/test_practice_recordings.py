"""Practice mode on real recordings: RAVDESS actors 17-20, whom the hint profiles never measured.

The profiles (bots/core/practice_hints.PROFILES) come from actors 1-16 (bench/practice_profiles.py).
The bundled model was trained on every RAVDESS actor, so the hit test checks the scoring path on
real speech, not how well the model generalises. Skipped with a reason without ../shared/data.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import soundfile as sf

from bots.core.practice import PracticeAttempt
from bots.core.service import VoiceMoodService
from bots.core.values import User
from inference.models import load_model
from inference.speech import find_speech
from tests.service_factory import running_service

HELD_OUT = ("17", "18", "19", "20")


@pytest.fixture
async def service(shared_data, tmp_path) -> AsyncIterator[VoiceMoodService]:
    async with running_service(load_model(None), tmp_path) as built:
        yield built


def _clips(shared_data: Path, emotion: str, intensity: str) -> list[Path]:
    folder = shared_data / "ravdess"
    with open(folder / "metadata.csv", newline="") as f:
        return [
            folder / row["path"]
            for row in csv.DictReader(f)
            if row["speaker"] in HELD_OUT
            and row["emotion"] == emotion
            and row["intensity"] == intensity
        ]


async def _practise(
    service: VoiceMoodService, clips: list[Path], target: str
) -> list[PracticeAttempt]:
    person = await service.chats.person(User("telegram", "1", "Actor"))
    attempts = []
    for clip in clips:
        await service.practice.start(person, target)
        attempts.append(await service.practice.hear(person, clip.read_bytes()))
    return attempts


async def test_a_neutral_voice_practising_angry_is_told_to_be_louder_or_higher(
    service: VoiceMoodService, shared_data: Path
):
    clips = _clips(shared_data, "neutral", "normal")
    assert len(clips) >= 8
    attempts = await _practise(service, clips, "angry")
    towards_angry = {
        ("loudness_db", "higher"),
        ("pitch_hz", "higher"),
        ("pitch_range_st", "higher"),
    }
    for clip, attempt in zip(clips, attempts, strict=True):
        assert not attempt.hit, clip.name
        assert attempt.hint is not None, clip.name
        assert (attempt.hint.cue, attempt.hint.direction) in towards_angry, (
            clip.name,
            attempt.hint,
        )


async def test_a_real_angry_voice_heard_as_angry_is_a_hit_in_the_running_score(
    service: VoiceMoodService, shared_data: Path
):
    clips = _clips(shared_data, "angry", "strong")
    assert len(clips) >= 8
    # The speech detector hears little of a shout: two of actor 18's shouted sentences hold less
    # than VOICEMOOD_MIN_SPEECH_S of speech to it (bench/speech.py) and are refused, not scored.
    heard_enough = [c for c in clips if find_speech(sf.read(c, dtype="float32")[0]).seconds >= 1]
    assert len(heard_enough) >= len(clips) - 2
    attempts = await _practise(service, heard_enough, "angry")
    heard_angry = [a for a in attempts if a.heard == "angry"]
    assert len(heard_angry) >= 0.75 * len(attempts), [a.heard for a in attempts]
    assert all(a.hit and a.hint is None for a in heard_angry)
    assert not any(a.hit for a in attempts if a.heard != "angry")
    last = attempts[-1].score
    assert last is not None
    assert (last.attempts, last.hits) == (len(attempts), len(heard_angry))
