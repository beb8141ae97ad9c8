"""When the database is away or saturated: 503 quickly (never a hang or a 500), and service
resumes by itself when it is back. PostgreSQL is reached through a TCP proxy that the test can
cut, so the real server is never stopped."""

import asyncio
import contextlib
import time
from typing import Any

import pytest
from sqlalchemy import text

from brace import App
from brace.db import DB, Database
from brace.testing import AsyncTestClient, TestClient
from support_db import PG_URL, require_postgres


class Proxy:
    """A TCP proxy in front of PostgreSQL whose plug can be pulled and put back."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.cut()


def outage_app(url: str, **options: Any) -> App:
    app = App()
    Database(url, app=app, **options)

    @app.get("/ping")
    async def ping(session: DB) -> int:
        return int((await session.execute(text("SELECT 1"))).scalar_one())

    @app.get("/hold")
    async def hold(session: DB) -> int:
        await session.execute(text("SELECT 1"))
        await asyncio.sleep(1.0)  # keeps its pooled connection busy
        return 1

    return app


def test_unreachable_database_answers_503_quickly() -> None:
    app = outage_app("postgresql+asyncpg://postgres@127.0.0.1:1/test", check_on_startup=False)
    with TestClient(app) as client:
        started = time.monotonic()
        r = client.get("/ping")
        assert r.status_code == 503
        assert time.monotonic() - started < 5
        assert r.headers["retry-after"] == "1"
        assert "unavailable" in r.json()["detail"]
        assert "127.0.0.1" not in r.text  # nothing about the server leaks


def test_start_up_refuses_an_unreachable_database() -> None:
    app = outage_app("postgresql+asyncpg://postgres:secret@127.0.0.1:1/test")
    with pytest.raises(Exception, match="cannot connect to the database") as caught:
        with TestClient(app):
            pass
    assert "secret" not in str(caught.value)


@pytest.mark.postgres
def test_pool_exhausted_answers_503_after_the_timeout() -> None:
    require_postgres()
    app = outage_app(PG_URL, pool_size=1, max_overflow=0, pool_timeout=0.2)

    async def scenario() -> None:
        async with AsyncTestClient(app) as client:
            holder = asyncio.create_task(client.get("/hold"))
            await asyncio.sleep(0.3)
            started = time.monotonic()
            busy = await client.get("/ping")
            assert busy.status_code == 503 and "busy" in busy.json()["detail"]
            assert time.monotonic() - started < 2
            assert (await holder).status_code == 200
            assert (await client.get("/ping")).status_code == 200

    asyncio.run(scenario())


@pytest.mark.postgres
def test_database_dies_mid_run_then_comes_back() -> None:
    require_postgres()

    async def scenario() -> None:
        proxy = Proxy()
        await proxy.start()
        url = PG_URL.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        app = outage_app(url, connect_timeout=1.0)
        try:
            async with AsyncTestClient(app) as client:
                assert (await client.get("/ping")).status_code == 200
                await proxy.cut()
                for _ in range(3):
                    started = time.monotonic()
                    down = await client.get("/ping")
                    assert down.status_code == 503, down.text
                    assert time.monotonic() - started < 3
                await proxy.start()  # same port: the server is back
                deadline = time.monotonic() + 5
                while (await client.get("/ping")).status_code != 200:
                    assert time.monotonic() < deadline, "the app did not recover"
                    await asyncio.sleep(0.1)
        finally:
            await proxy.stop()

    asyncio.run(scenario())
