"""The PostgreSQL backend's own connection pool (storage.backends.postgres_pool): a connection goes
back without asyncpg's per-release task and timer, so what that machinery guaranteed is held here:
an interrupted statement never leaves its connection to the next borrower, a connection the server
dropped is replaced, no more than `size` are open, and closing waits for the ones lent out.
Real PostgreSQL, real asyncpg.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from storage.backends.postgres_pool import ConnectionPool


@pytest.fixture
async def url(postgres_server) -> str:
    return postgres_server.fresh_database()


async def _pool(url: str, size: int) -> ConnectionPool:
    return await ConnectionPool.open(lambda: asyncpg.connect(url), size)


async def _pid(pool: ConnectionPool) -> int:
    rows = await pool.fetch("SELECT pg_backend_pid()")
    return int(rows[0][0])


async def test_a_cancelled_statement_leaves_no_busy_connection_to_the_next_borrower(url):
    pool = await _pool(url, 1)
    try:
        first = await _pid(pool)
        sleeping = asyncio.create_task(pool.fetch("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.3)
        sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeping

        # The next statement runs at once on a fresh connection, not behind the cancelled one.
        async with asyncio.timeout(5):
            assert await pool.fetch("SELECT 41 + 1") == [(42,)]
            assert await _pid(pool) != first
    finally:
        await pool.close()


async def test_a_failed_transaction_does_not_lend_its_connection_still_inside_it(url):
    pool = await _pool(url, 1)
    try:
        with pytest.raises(RuntimeError):
            async with pool.acquire() as conn:
                await conn.execute("BEGIN; CREATE TABLE t (x int)")
                raise RuntimeError("the caller failed before COMMIT or ROLLBACK")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('t') IS NULL")
    finally:
        await pool.close()


async def test_a_server_error_keeps_the_connection(url):
    """The cheap path: the server answered, the connection is idle again and is reused."""
    pool = await _pool(url, 1)
    try:
        first = await _pid(pool)
        with pytest.raises(asyncpg.UndefinedTableError):
            await pool.fetch("SELECT * FROM no_such_table")
        assert await _pid(pool) == first
    finally:
        await pool.close()


async def test_a_connection_the_server_dropped_is_replaced(url):
    pool = await _pool(url, 1)
    try:
        first = await _pid(pool)
        admin = await asyncpg.connect(url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(0.2)  # the connection hears that it was closed
        assert await _pid(pool) != first
    finally:
        await pool.close()


async def test_no_more_than_size_connections_are_open_and_waiting_borrowers_are_served(url):
    pool = await _pool(url, 2)
    try:
        rows = await asyncio.gather(
            *(pool.fetch("SELECT pg_backend_pid(), pg_sleep(0.1)") for _ in range(6))
        )
        assert len({row[0][0] for row in rows}) == 2
    finally:
        await pool.close()


async def test_closing_waits_for_the_connections_lent_out(url):
    pool = await _pool(url, 2)
    async with pool.acquire() as conn:
        closing = asyncio.create_task(pool.close())
        await asyncio.sleep(0.2)
        assert not closing.done()
        assert await conn.fetchval("SELECT 1") == 1
    await asyncio.wait_for(closing, 5)
    assert conn.is_closed()
    with pytest.raises(asyncpg.InterfaceError):
        await pool.fetch("SELECT 1")
