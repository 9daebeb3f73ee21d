"""Discord sharding: two processes' worth of clients, each running half the shards over one
database, through the real discord.py against the fake Discord (which sends each server's events
only to the shard that owns it, and DMs to shard 0, as Discord does).

Every voice message is answered exactly once, by the process whose shard owns its server; each
process posts the daily digests of its own servers only, and never claims the others'.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from bots.core.service import VoiceMoodService
from bots.discord.app import DiscordHandle, ShardedVoiceMoodBot, build_client, start_discord
from tests.fakes.discord import FAKE_TOKEN, FakeChannel, FakeDiscord, FakeUser
from tests.service_factory import running_service
from tests.stats_model import StatsModel
from tests.test_discord_bot import _answer_to, _callback

SHARDS = 4  # two processes: shards 0-1 and 2-3


@dataclass
class Servers:
    fake: FakeDiscord
    admin: FakeUser
    alice: FakeUser
    # Channels of servers on shard 0, 1, 2 and 3.
    channels: list[FakeChannel]


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    async with FakeDiscord() as fake:
        admin, alice = fake.add_user("admin"), fake.add_user("alice")
        channels = []
        for shard in range(SHARDS):
            guild = fake.add_guild(f"server-{shard}", owner=admin, shard=(shard, SHARDS))
            fake.add_member(guild, alice)
            channels.append(fake.add_text_channel(guild, "general"))
        yield Servers(fake, admin, alice, channels)


@pytest.fixture
async def processes(
    servers: Servers, tmp_path: Path
) -> AsyncIterator[list[tuple[DiscordHandle, VoiceMoodService]]]:
    """Two bots, shards 0-1 and 2-3, each with its own service, sharing one database file."""
    async with (
        running_service(StatsModel(), tmp_path) as first,
        running_service(StatsModel(), tmp_path) as second,
    ):
        started = []
        try:
            for service, ids in ((first, [0, 1]), (second, [2, 3])):
                handle = await start_discord(
                    service,
                    FAKE_TOKEN,
                    api_base=servers.fake.rest_base,
                    gateway=servers.fake.gateway_url,
                    guild_ready_timeout=0.1,
                    shard_count=SHARDS,
                    shard_ids=ids,
                )
                started.append((handle, service))
            yield started
        finally:
            for handle, _ in started:
                await handle.stop()


async def test_each_process_connects_its_own_shards_and_sees_only_their_servers(
    servers: Servers, processes: list[tuple[DiscordHandle, VoiceMoodService]]
) -> None:
    (first, _), (second, _) = processes
    identified = [p["d"]["shard"] for p in servers.fake.gateway_received if p.get("op") == 2]

    assert sorted(identified) == [[i, SHARDS] for i in range(SHARDS)]
    assert isinstance(first.client, ShardedVoiceMoodBot)
    assert sorted(g.name for g in first.client.guilds) == ["server-0", "server-1"]
    assert sorted(g.name for g in second.client.guilds) == ["server-2", "server-3"]


async def test_every_voice_message_is_answered_once_whichever_shard_owns_it(
    servers: Servers, processes: list[tuple[DiscordHandle, VoiceMoodService]], make_audio
) -> None:
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    fake = servers.fake
    sent = []
    for channel in servers.channels:
        await _callback(fake, await fake.slash_command("optin", {}, servers.alice, channel))
        sent.append(await fake.send_voice_message(channel, servers.alice, ogg, 2.0))
    dm = fake.dm_channel(servers.alice)
    sent.append(await fake.send_voice_message(dm, servers.alice, ogg, 2.0))

    for message in sent:
        await _answer_to(fake, message)

    replies = [
        str((m.get("message_reference") or {}).get("message_id"))
        for m in fake.messages.values()
        if m["author"]["id"] == str(fake.bot.id) and m.get("message_reference")
    ]
    assert sorted(replies) == sorted(m["id"] for m in sent)  # each once, none twice
    # Both processes' services analysed notes: the servers really were split between them.
    analysed = [await _notes_seen(service) for _, service in processes]
    assert all(n > 0 for n in analysed), analysed


async def test_each_process_posts_the_digests_of_its_own_servers_only(
    servers: Servers, processes: list[tuple[DiscordHandle, VoiceMoodService]], make_audio
) -> None:
    ogg = make_audio("note.ogg", 2.0).read_bytes()
    fake = servers.fake
    for channel in servers.channels:
        await _callback(
            fake,
            await fake.slash_command(
                "digest", {"state": "on", "time": "21:30"}, servers.admin, channel
            ),
        )
        await _callback(fake, await fake.slash_command("optin", {}, servers.admin, channel))
        await _answer_to(fake, await fake.send_voice_message(channel, servers.admin, ogg, 2.0))
    due = datetime(2030, 1, 1, 21, 30, tzinfo=UTC)

    posted = [await handle.client.digests.post_due_digests(due) for handle, _ in processes]
    again = [await handle.client.digests.post_due_digests(due) for handle, _ in processes]

    assert posted == [2, 2] and again == [0, 0]
    for channel in servers.channels:
        charts = [c for c in fake.calls_to("POST", f"/channels/{channel.id}/messages") if c.files]
        assert len(charts) == 1, channel.guild_id


async def test_a_shard_group_keeps_discords_identify_rate_limit_per_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one bucket (an ordinary bot), shard 1 identifies a whole window after shard 0."""
    monkeypatch.setattr("bots.discord.app._IDENTIFY_WINDOW_S", 0.5)
    async with (
        FakeDiscord(max_concurrency=1) as fake,
        running_service(StatsModel(), tmp_path) as service,
    ):
        handle = await start_discord(
            service,
            FAKE_TOKEN,
            api_base=fake.rest_base,
            gateway=fake.gateway_url,
            guild_ready_timeout=0.1,
            shard_count=2,
        )
        await handle.stop()

    assert fake.identified_at[1] - fake.identified_at[0] >= 0.5


def test_shard_ids_outside_the_count_are_refused_before_connecting() -> None:
    with pytest.raises(ValueError, match="among 0..1"):
        build_client(None, shard_count=2, shard_ids=[2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="need a shard count"):
        build_client(None, shard_ids=[0])  # type: ignore[arg-type]
    assert (
        discord.AutoShardedClient
        in type(
            build_client(_NoService(), shard_count=2)  # type: ignore[arg-type]
        ).__mro__
    )


async def _notes_seen(service: VoiceMoodService) -> int:
    """How many clips this process's own worker analysed."""
    return service.notes.analyzer.worker.stats.processed


class _NoService:
    """Enough of a service for building (not starting) a client."""
