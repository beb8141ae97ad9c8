"""FastAPI + SQLAlchemy (async, asyncpg): TechEmpower's database tests, the FastAPI way.

An async engine (POOL_SIZE connections, no overflow, as every variant) and a sessionmaker at
module level, a session per request from a `yield` dependency, SQLAlchemy ORM models, pydantic
response models (`from_attributes`), Jinja2Templates for the fortunes page, and an explicit
`await session.commit()` where the handler writes.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from operator import attrgetter
from typing import Annotated, ClassVar

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from apps._db import (
    ADDED_MESSAGE,
    POOL_SIZE,
    SQLALCHEMY_URL,
    TEMPLATE,
    TEMPLATES,
    parse_queries,
    random_id,
    random_ids,
)

engine = create_async_engine(SQLALCHEMY_URL, pool_size=POOL_SIZE, max_overflow=0)
async_session = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class World(Base):
    __tablename__ = "world"
    __table_args__: ClassVar[dict[str, str]] = {"schema": "bench"}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    randomNumber: Mapped[int] = mapped_column("randomnumber")


class Fortune(Base):
    __tablename__ = "fortune"
    __table_args__: ClassVar[dict[str, str]] = {"schema": "bench"}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message: Mapped[str] = mapped_column(String(2048))


class WorldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    randomNumber: int


async def get_session() -> AsyncIterator[AsyncSession]:
    async with async_session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield
    await engine.dispose()


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
templates = Jinja2Templates(directory=TEMPLATES)
_by_message = attrgetter("message")


@app.get("/db", response_model=WorldOut)
async def single_query(session: SessionDep):
    return await session.get(World, random_id())


@app.get("/queries", response_model=list[WorldOut])
async def multiple_queries(session: SessionDep, queries: str = "1"):
    return [await session.get(World, i) for i in random_ids(parse_queries(queries))]


@app.get("/fortunes-db", response_class=HTMLResponse)
async def fortunes(request: Request, session: SessionDep):
    rows = list(await session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDED_MESSAGE))
    rows.sort(key=_by_message)
    return templates.TemplateResponse(request, TEMPLATE, {"fortunes": rows})


@app.get("/updates", response_model=list[WorldOut])
async def updates(session: SessionDep, queries: str = "1"):
    worlds = [await session.get(World, i) for i in random_ids(parse_queries(queries))]
    for world in worlds:
        world.randomNumber = random_id()
    await session.commit()
    return worlds
