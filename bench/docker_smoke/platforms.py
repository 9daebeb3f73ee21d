"""The fake Telegram and Discord for `bench/docker_smoke.sh --scaled`, on the compose network.

    python bench/docker_smoke/platforms.py --host GATEWAY_IP --dir DIR --note NOTE.ogg

Listens on the compose network's gateway address (the containers reach the host there; nothing
else can), writes DIR/env (the VOICEMOOD_* lines pointing the bots at it), then waits for DIR/go:
one webhook URL a line, the Telegram replicas as the script found them. By then every Telegram
replica must have registered the webhook and both Discord shard processes must have identified.
It posts one voice note, as Telegram would, to the first replica, waits for the answer, and writes
DIR/result.json. Exit 0 when all of that held.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp

from bots.telegram.app import derived_webhook_secret
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram, make_user, private_chat

DISCORD_TOKEN = "fake-discord-token-for-the-docker-smoke"
SHARDS = 2  # docker-compose.yml's VOICEMOOD_DISCORD_SHARD_COUNT
ALICE = make_user(1001, "Alice", username="alice")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--note", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    telegram, discord = FakeTelegram(), FakeDiscord()
    await telegram.start(args.host)
    await discord.start(args.host)
    try:
        (args.dir / "env").write_text(
            f"VOICEMOOD_TELEGRAM_TOKEN={telegram.token}\n"
            f"VOICEMOOD_TELEGRAM_API_BASE={telegram.base_url}/bot\n"
            f"VOICEMOOD_TELEGRAM_FILE_BASE={telegram.base_file_url}/file/bot\n"
            f"VOICEMOOD_DISCORD_TOKEN={DISCORD_TOKEN}\n"
            f"VOICEMOOD_DISCORD_API_BASE={discord.rest_base}\n"
            f"VOICEMOOD_DISCORD_GATEWAY={discord.gateway_url}\n"
        )
        urls = await asyncio.to_thread(_go, args.dir / "go", args.timeout)
        result = await _check(telegram, discord, urls, args.note.read_bytes())
    except Exception as error:  # the script shows this and the containers' logs
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    finally:
        await discord.stop()
        await telegram.stop()
    (args.dir / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0 if result["ok"] else 1


def _go(path: Path, timeout: float) -> list[str]:
    """The webhook URLs the script writes (renamed into place whole) once everything is healthy."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {path.name} file within {timeout:g} s")
        time.sleep(0.2)
    return path.read_text().split()


async def _check(
    telegram: FakeTelegram, discord: FakeDiscord, urls: list[str], ogg: bytes
) -> dict[str, object]:
    registered = telegram.calls("setWebhook")
    secret = derived_webhook_secret(telegram.token)
    # IDENTIFY (op 2) carries [shard id, shard count]; each shard process sends its own.
    shards = sorted(tuple(p["d"]["shard"]) for p in discord.gateway_received if p.get("op") == 2)
    problems = []
    if len(registered) < len(urls) or {c.params["secret_token"] for c in registered} != {secret}:
        problems.append(f"{len(registered)} setWebhook calls for {len(urls)} replicas")
    if shards != [(i, SHARDS) for i in range(SHARDS)]:
        problems.append(f"Discord shards connected: {shards}")

    chat = private_chat(ALICE)
    update = telegram.send_voice(chat, ALICE, ogg, duration=2)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with (
        aiohttp.ClientSession() as session,
        session.post(urls[0], json=update, headers=headers) as response,
    ):
        if response.status != 200:
            problems.append(f"the webhook answered {response.status}")
    answer = await telegram.wait_for(
        lambda c: (
            c.method == "sendMessage" and c.params.get("chat_id") in (chat["id"], str(chat["id"]))
        ),
        timeout=120,
    )
    return {
        "ok": not problems,
        "problems": problems,
        "webhooks_registered": len(registered),
        "discord_shards": [list(s) for s in shards],
        "answer": answer.params.get("text"),
        "answer_s": round(loop.time() - started, 2),
    }


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
