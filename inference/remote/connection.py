"""The Redis client of `voicemood worker`: redis-py's, without a Task and a timer per send.

With `socket_timeout` set, redis-py sends every command inside `asyncio.wait_for`, which on Python
3.11 starts a Task and a timer for each send, and reads the answer inside `asyncio.timeout`. A
send to a socket only waits when its buffers are full, and every command's answer is read under
`socket_timeout`, so for a worker, whose sends are small (its reads, its replies), the send's own
timeout buys nothing the read does not: here a send has none, and a server that stops answering
is still noticed by the read, within SOCKET_TIMEOUT_S. The bot replicas keep redis-py's sends:
a note's PCM (320 kB a note) can fill a socket's buffers, and there the send's timeout is what
notices a hung server; measured, the change did not lower a replica's CPU per note (README).
TCP keepalive notices a peer that vanished while nothing was sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Connection, Redis

SOCKET_TIMEOUT_S = 5.0  # an answer not read within this: the server is gone (or hung)
CONNECT_TIMEOUT_S = 5.0


def connect(url: str, **options: Any) -> Redis:
    """A client for `url` (nothing is sent until its first command); `options` as redis-py's."""
    from redis.asyncio import Redis

    options = {
        "socket_timeout": SOCKET_TIMEOUT_S,
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "socket_keepalive": True,
        **options,
    }
    # unix:// and rediss:// URLs bring their own connection class, with redis-py's sends.
    return Redis.from_url(url, connection_class=_connection_class(), **options)


@cache
def _connection_class() -> type[Connection]:
    from redis.asyncio import Connection

    class SendWithoutTimer(Connection):
        """redis-py's TCP connection, its sends outside asyncio.wait_for (see the module)."""

        async def send_packed_command(
            self, command: bytes | str | Iterable[bytes], check_health: bool = True
        ) -> None:
            if not self.is_connected:
                await self.connect_check_health(check_health=False)
            if check_health:
                await self.check_health()  # its PING's answer read under socket_timeout
            timeout, self.socket_timeout = self.socket_timeout, None
            try:
                await super().send_packed_command(command, check_health=False)
            finally:
                self.socket_timeout = timeout

    return SendWithoutTimer
