"""PostgreSQL restarted in the middle of a burst of voice notes, through the real PTB client
against the fake Bot API: every note is still answered, nothing stored before is lost or doubled,
and storing comes back by itself once the server is back.

The server is a cluster of this test's own (the session's shared one is not disturbed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from bots.core.service import VoiceMoodService
from bots.i18n import t
from tests.fakes.telegram import FakeTelegram, make_user, private_chat
from tests.servers_postgres import Cluster, PostgresServer, find_binaries
from tests.service_factory import running_service
from tests.stats_model import StatsModel
from tests.test_telegram_bot import _answer_to, _buttons, _start

PEOPLE = [make_user(2000 + i, f"Person {i}") for i in range(10)]
BURST = 30  # notes, three per person


@pytest.fixture
def restartable() -> Iterator[tuple[Cluster, PostgresServer]]:
    cluster = Cluster(find_binaries())
    with cluster as url:
        server = PostgresServer(url, cluster.data)
        server.make_template()
        yield cluster, server


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def test_a_postgres_restart_mid_burst_answers_every_note_and_loses_nothing_stored(
    restartable: tuple[Cluster, PostgresServer], fake: FakeTelegram, make_audio, tmp_path
) -> None:
    cluster, server = restartable
    url = server.fresh_database()
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    async with running_service(StatsModel(), tmp_path, database=url) as service:
        handle = await _start(service, fake)
        try:
            # Before: Ana donates and confirms her note's tone; both must survive, once each.
            ana = PEOPLE[0]
            dm = private_chat(ana)
            await _answer_to(fake, fake.send_text(dm, ana, "/donate on"))
            first = fake.send_voice(dm, ana, ogg, duration=2)
            answer = await _answer_to(fake, first)
            ok = _buttons(answer)[0]["callback_data"]
            fake.press_button(dm, ana, answer.result["message_id"], ok)
            await fake.wait_for("answerCallbackQuery")

            sent = []
            for i in range(BURST):
                person = PEOPLE[i % len(PEOPLE)]
                sent.append(fake.send_voice(private_chat(person), person, ogg, duration=2))
                if i == BURST // 3:
                    await asyncio.to_thread(cluster.restart)
                await asyncio.sleep(0.05)
            replies = [await _answer_to(fake, update) for update in sent]

            # Back by itself: a note after the burst is answered and stored again.
            later = fake.send_voice(dm, ana, ogg, duration=2)
            await _eventually_stored(service, later)
        finally:
            await handle.stop()

    texts = [r.params["text"] for r in replies]
    assert len(texts) == BURST  # every note answered, none twice (each wait found one reply)
    assert all(_is_answer_or_polite_error(text) for text in texts), texts
    rows = await _rows(url, ana["id"])
    assert rows["donate_consents"] == 1  # given once before the burst: still there, not doubled
    assert rows["votes_on_first_note"] == 1


POLITE = {t("en", key) for key in ("error.busy", "error.timeout", "error.error")}


def _is_answer_or_polite_error(text: str) -> bool:
    return "%" in text or text in POLITE


async def _eventually_stored(service: VoiceMoodService, update: dict[str, Any]) -> None:
    message_id = str(update["message"]["message_id"])
    chat_id = str(update["message"]["chat"]["id"])
    async with asyncio.timeout(30):
        while True:
            chat = await _quietly(service.store.find_chat("telegram", chat_id))
            if chat is not None and await _quietly(service.store.find_note(chat, message_id)):
                return
            await asyncio.sleep(0.2)


async def _quietly(awaitable: Any) -> Any:
    try:
        return await awaitable
    except Exception:  # the server may still be coming back
        return None


async def _rows(url: str, telegram_id: int) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        person = await conn.fetchval(
            "SELECT id FROM persons WHERE platform = 'telegram' AND platform_user_id = $1",
            str(telegram_id),
        )
        donate = await conn.fetchval(
            "SELECT count(*) FROM consents WHERE person_id = $1 AND kind = 'donate_audio'"
            " AND withdrawn_at IS NULL",
            person,
        )
        first_note = await conn.fetchval("SELECT min(id) FROM notes WHERE person_id = $1", person)
        votes = await conn.fetchval("SELECT count(*) FROM votes WHERE note_id = $1", first_note)
        return {"donate_consents": donate, "votes_on_first_note": votes}
    finally:
        await conn.close()
