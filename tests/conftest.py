"""Shared fixtures. Every storage and command test runs twice: on SQLite (a fresh WAL file per
test) and on the PostgreSQL server at 127.0.0.1:5432 (one scratch database per run, emptied
between tests), which is skipped with its reason when no server answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from bot.app import App, build
from bot.config import Config
from handlers.clock import FixedClock
from handlers.engine.dispatch import Engine
from handlers.language.i18n import Catalogs
from handlers.values import Attachment, Ref, Reply, Request
from storage.db import Database

PG_ADMIN_URL = os.environ.get(
    "TIENDO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# 10:00 in Hà Nội on Monday 10 March 2025.
NOW = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)
SUPERADMIN = "shell:root"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tiendo_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server, no permission: say why, then skip
        pytest.skip(f"PostgreSQL not available at {PG_ADMIN_URL}: {error.__class__.__name__}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    db.create_all()
    db.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'tiendo.db'}")
        database.create_all()
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with database.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def catalogs() -> Catalogs:
    return Catalogs()


@pytest.fixture
def app(db: Database, clock: FixedClock) -> App:
    """Built by the composition root, as `tiendo run` is, on the test's database and clock."""
    return build(Config(), clock=clock, db=db, superadmins=(SUPERADMIN,))


@pytest.fixture
def engine(app: App) -> Engine:
    return app.engine


class Chat:
    """Talks to the engine as local users, the way an adapter would."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sent = 0

    def say(
        self,
        user: str,
        line: str,
        *,
        chat: str | None = None,
        lang: str | None = "en",
        attachment: Attachment | None = None,
        message_id: str | None = None,
        edits: str | None = None,
    ) -> Reply:
        assert line.startswith("/")
        command, _, args = line[1:].partition(" ")
        self.sent += 1
        chat = chat or "@" + user
        return self.engine.handle(
            Request(
                user=Ref("shell", "", user),
                chat=Ref("shell", "", chat),
                command=command,
                args=args,
                user_name=user,
                is_group=chat.startswith("#"),
                language=lang,
                message_id=message_id or f"test:{self.sent}",
                edits_message_id=edits,
                attachment=attachment,
            )
        )

    def ok(self, user: str, line: str, **kwargs: object) -> Reply:
        reply = self.say(user, line, **kwargs)  # type: ignore[arg-type]
        assert not reply.is_error, f"{line!r} failed: {reply.text}"
        return reply

    def error(self, user: str, line: str, **kwargs: object) -> Reply:
        reply = self.say(user, line, **kwargs)  # type: ignore[arg-type]
        assert reply.is_error, f"{line!r} should have failed but said: {reply.text}"
        return reply


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)


SETUP = (
    '/campaign new road "Đường Bình Sơn Đông" start=2025-02-01 deadline=2025-06-30',
    '/metric add households "Hộ đã vận động" unit=household target=500 aliases=hộ,ho '
    'en="Households reached"',
    '/metric add road_m "Đường đã làm" unit=m target=810 max=300 aliases=đường en="Road built"',
    '/metric add vnd "Tiền đóng góp" unit=VND target=2tỷ aliases=tiền en="Money raised"',
    '/unit add binh-son "Xã Bình Sơn"',
    '/unit add ap-1 "Ấp 1" parent=binh-son',
    '/unit add ap-2 "Ấp 2" parent=binh-son',
    '/team add t1 "Tổ 1" unit=ap-1',
    '/team add t2 "Tổ 2" unit=ap-2',
)


@pytest.fixture
def campaign(chat: Chat) -> Chat:
    """A campaign `road` run by `root` (superadmin) with three metrics, two teams, and
    reporters `lan` (team t1) and `minh` (team t2), leader `hoa`, admin `an`."""
    for line in SETUP:
        chat.ok("root", line)
    for user, target in (("lan", "t1"), ("minh", "t2"), ("hoa", "leader"), ("an", "admin")):
        code = chat.ok("root", f"/invite {target}").text.split()[2].rstrip(":")
        chat.ok(user, f"/join {code}")
    return chat
