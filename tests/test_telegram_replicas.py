"""Two Telegram replicas behind one webhook, sharing one database: any replica may receive any
update, and nothing a person does depends on which one gets it.

The real python-telegram-bot in webhook mode, twice, against the fake Bot API; each replica has its
own service and worker over the same database: one SQLite file, and one PostgreSQL database as
real replicas would share. Updates are posted to the replicas in turn, the way a load balancer
spreads them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.core.service import VoiceMoodService
from bots.i18n import t
from bots.telegram.app import TelegramHandle, derived_webhook_secret, start_telegram
from tests.fakes.telegram import FakeTelegram, make_user, private_chat
from tests.service_factory import running_service
from tests.stats_model import StatsModel
from tests.storage_factory import DATABASES
from tests.test_telegram_bot import _answer_to, _buttons

ALICE = make_user(1001, "Alice", username="alice")
DM = private_chat(ALICE)
JSON = dict[str, Any]


class Replicas:
    """The replicas' webhook URLs, and a load balancer's turn-by-turn choice among them."""

    def __init__(self, fake: FakeTelegram, urls: list[str], services: list[VoiceMoodService]):
        self.fake, self.urls, self.services = fake, urls, services
        self.secret = derived_webhook_secret(fake.token)
        self._turn = 0

    async def post(self, update: JSON, replica: int | None = None) -> int:
        """Deliver `update` as Telegram would, to `replica` or the next one in turn."""
        if replica is None:
            replica, self._turn = self._turn, (self._turn + 1) % len(self.urls)
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.urls[replica], json=update, headers=headers) as response,
        ):
            return response.status


@pytest.fixture
async def replicas(tmp_path: Path, storage_backend: str) -> AsyncIterator[Replicas]:
    database = DATABASES.get(tmp_path)  # PostgreSQL's, or None: the folder's SQLite file
    async with (
        FakeTelegram() as fake,
        running_service(StatsModel(), tmp_path, database=database) as first,
        running_service(StatsModel(), tmp_path, database=database) as second,
    ):
        handles: list[TelegramHandle] = []
        urls = []
        try:
            for service in (first, second):
                port = _free_port()
                handles.append(
                    await start_telegram(
                        service,
                        fake.token,
                        api_base=f"{fake.base_url}/bot",
                        file_base=f"{fake.base_file_url}/file/bot",
                        # Both register the load balancer's URL; each listens on its own port.
                        webhook_url="http://127.0.0.1:9/telegram",
                        webhook_listen="127.0.0.1",
                        webhook_port=port,
                        digest_check_s=0.2,
                    )
                )
                urls.append(f"http://127.0.0.1:{port}/telegram")
            yield Replicas(fake, urls, [first, second])
        finally:
            for handle in handles:
                await handle.stop()


async def test_both_replicas_register_one_webhook_with_one_secret(replicas: Replicas) -> None:
    registered = replicas.fake.calls("setWebhook")

    assert len(registered) == 2
    assert {c.params["secret_token"] for c in registered} == {replicas.secret}
    assert {c.params["url"] for c in registered} == {"http://127.0.0.1:9/telegram"}
    accepted = await replicas.post(replicas.fake.send_text(DM, ALICE, "/help"), replica=1)
    # A replica started with a random secret would lock the other one out; none does.
    assert accepted == 200


async def test_a_vote_and_a_forget_confirmed_on_the_other_replica_take_effect_once(
    replicas: Replicas, make_audio
) -> None:
    fake = replicas.fake
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    note = fake.send_voice(DM, ALICE, ogg, duration=2)
    await replicas.post(note, replica=0)
    answer = await _answer_to(fake, note)
    ok = _buttons(answer)[0]["callback_data"]

    await replicas.post(fake.press_button(DM, ALICE, answer.result["message_id"], ok), replica=1)
    await fake.wait_for("answerCallbackQuery")
    store = replicas.services[1].store
    person = await store.get_person("telegram", str(ALICE["id"]))
    assert person is not None
    (kept,) = await store.person_notes(person)
    assert [v.voter_id for v in await store.votes(kept.id)] == [person.id]

    ask_update = fake.send_text(DM, ALICE, "/forget")
    await replicas.post(ask_update, replica=1)
    ask = await _answer_to(fake, ask_update)
    yes = _buttons(ask)[0]["callback_data"]
    await replicas.post(fake.press_button(DM, ALICE, ask.result["message_id"], yes), replica=0)
    await fake.wait_for(
        lambda c: (
            c.method == "editMessageText" and c.params["message_id"] == ask.result["message_id"]
        ),
        timeout=10,
    )

    for service in replicas.services:
        assert await service.store.get_person("telegram", str(ALICE["id"])) is None


async def test_a_daily_digest_is_posted_once_although_every_replica_checks(
    replicas: Replicas, make_audio
) -> None:
    fake = replicas.fake
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    note = fake.send_voice(DM, ALICE, ogg, duration=2)
    await replicas.post(note)
    await _answer_to(fake, note)
    now = datetime.now(UTC).strftime("%H:%M")
    switch_on = fake.send_text(DM, ALICE, f"/digest on {now}")
    await replicas.post(switch_on)
    assert (await _answer_to(fake, switch_on)).params["text"] == t("en", "digest.on", time=now)

    digest = await fake.wait_for("sendPhoto", timeout=10)
    await asyncio.sleep(1.0)  # both replicas check every 0.2 s: several more checks pass

    assert digest.params["chat_id"] == ALICE["id"]
    assert len(fake.calls("sendPhoto")) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
