"""Practice mode's rows on both backends: a session's rounds and tally, the running score, the end."""

from __future__ import annotations

from tests.storage_factory import open_store


async def test_a_session_counts_attempts_per_tone_and_ending_it_keeps_only_the_score(
    storage_backend, tmp_path
):
    async with await open_store(tmp_path) as store:
        ann = await store.ensure_person("telegram", 1)
        ben = await store.ensure_person("telegram", 2)
        assert await store.practice.session(ann) is None
        assert await store.practice.record_attempt(ann, "sad", hit=True) is None  # none open

        first = await store.practice.start_round(ann, "sad", 4)
        assert (first.tone, first.sentence, first.rounds) == ("sad", 4, 0)
        await store.practice.record_attempt(ann, "sad", hit=False)
        score = await store.practice.record_attempt(ann, "sad", hit=True)
        assert score is not None and (score.attempts, score.hits) == (2, 1)
        second = await store.practice.start_round(ann, "angry", 1)
        assert (second.tone, second.rounds, second.started_at) == ("angry", 2, first.started_at)
        await store.practice.record_attempt(ann, "angry", hit=True)
        await store.practice.start_round(ben, "calm", 0)

        session = await store.practice.session(ann)
        assert session is not None
        assert [(x.tone, x.attempts, x.hits) for x in session.tallies] == [
            ("angry", 1, 1),
            ("sad", 2, 1),
        ]
        ended = await store.practice.end(ann)
        assert ended is not None and ended.session.rounds == 3
        assert [(s.tone, s.attempts, s.hits) for s in ended.scores] == [
            ("angry", 1, 1),
            ("sad", 2, 1),
        ]
        assert await store.practice.session(ann) is None and await store.practice.end(ann) is None
        assert [s.tone for s in await store.practice.scores(ann)] == ["angry", "sad"]
        # A new session starts its tally afresh; the running score goes on.
        await store.practice.start_round(ann, "sad", 2)
        again = await store.practice.record_attempt(ann, "sad", hit=True)
        assert again is not None and (again.attempts, again.hits) == (3, 2)
        fresh = await store.practice.session(ann)
        assert fresh is not None and [(x.tone, x.attempts) for x in fresh.tallies] == [("sad", 1)]
        ben_session = await store.practice.session(ben)
        assert ben_session is not None and ben_session.tone == "calm"
