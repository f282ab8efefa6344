"""The database handle: engine set-up for SQLite (WAL, foreign keys) and PostgreSQL, sessions
with one transaction each, and Alembic migrations run from inside the package."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from storage import limits, models  # noqa: F401  (tables on SQLModel.metadata; size checks)
from storage.urls import without_password

if TYPE_CHECKING:  # Alembic is imported when migrating, not by every command that opens the db
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration (tests/test_migrations.py checks it is Alembic's head): a database
# already there is not handed to Alembic, whose import alone is a tenth of a command's start.
HEAD = "0012"
CONNECT_TIMEOUT = 10  # seconds
SQLITE_READONLY = 8
BUSY_TIMEOUT = 10.0  # seconds a SQLite writer waits for another's lock before failing
_HOLDS = "tiendo_writer_lock"


class Unreachable(Exception):
    """The database did not answer (no server, refused, locked, unreadable file)."""

    def __init__(self, url: str, error: Exception) -> None:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        super().__init__(
            f"{without_password(url)}: {reason[0] if reason else type(error).__name__}"
        )


class ReadOnly(Unreachable):
    """The database answers but refuses writes (a SQLite file this process may not write)."""


def _read_only(error: Exception) -> bool:
    # SQLITE_READONLY and its extended codes (8, 264, 520, ...): the low byte is the code.
    return getattr(getattr(error, "orig", None), "sqlite_errorcode", 0) & 0xFF == SQLITE_READONLY


def database_away(error: BaseException) -> bool:
    """Did the database not answer (a lost connection, a server shutting down, SQLite's lock
    past its busy timeout, a file it may not write), rather than refuse the statement?"""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (OperationalError, InterfaceError))


def _revision(connection: Connection) -> str | None:
    """The migration the database is at; None for a new one (or several heads: Alembic's)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return versions[0][0] if len(versions) == 1 else None


def _sqlite_connect(  # type: ignore[no-untyped-def]
    busy_timeout: float, dbapi_connection, _record
) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions (see _Writers.begin): the
    # module's own handling breaks SAVEPOINTs, which the engine uses to undo a refused command.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the digest read while a reporter writes; busy_timeout waits out a writer
    # instead of failing; SQLite leaves foreign keys off unless asked, per connection.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _Writers:
    """One writer at a time per SQLite file in this process, queued on a lock. SQLite's own
    busy handler polls with sleeps of up to 100 ms, so threads of one process contending for
    its write lock wait far longer than the transaction they wait for; a lock hands over at
    once. Other processes (a second instance, a CLI command) still queue on busy_timeout."""

    def __init__(self, timeout: float) -> None:
        self.lock = threading.Lock()
        self.timeout = timeout

    def begin(self, connection) -> None:  # type: ignore[no-untyped-def]
        # Past busy_timeout the transaction goes to SQLite unqueued, which then answers
        # "database is locked" like any writer held up too long.
        held = self.lock.acquire(timeout=self.timeout)
        try:
            # IMMEDIATE takes the write lock up front, so two writers queue instead of one
            # failing when it upgrades a read lock.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if held:
                self.lock.release()
            raise
        connection.info[_HOLDS] = held

    def end(self, connection) -> None:  # type: ignore[no-untyped-def]
        if connection.info.pop(_HOLDS, False):
            self.lock.release()


def _sqlite_begin_reading(connection) -> None:  # type: ignore[no-untyped-def]
    # A reader (a digest rendered in a worker process): WAL lets it read while reports are
    # written, so it takes no write lock and holds nobody up however long it draws.
    connection.exec_driver_sql("BEGIN")


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once the session's transaction has committed (in the committing thread);
    never if it rolls back."""
    event.listen(session, "after_commit", lambda _session: action(), once=True)


class Database:
    def __init__(
        self, url: str, *, read_only: bool = False, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        """`read_only`: sessions only read (render workers); on SQLite they take no lock.
        `busy_timeout`: seconds a SQLite statement waits for another writer's lock."""
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(self.engine, "connect", partial(_sqlite_connect, busy_timeout))
            if read_only:
                event.listen(self.engine, "begin", _sqlite_begin_reading)
            else:
                writers = _Writers(busy_timeout)
                event.listen(self.engine, "begin", writers.begin)
                event.listen(self.engine, "commit", writers.end)
                event.listen(self.engine, "rollback", writers.end)
        else:
            # A server that does not answer at all is reported after 10 s, not after the
            # operating system's TCP time-out of minutes.
            self.engine = create_engine(
                url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT}
            )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commit when the block ends normally, roll back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def alembic_config(self) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return config

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent). Raises `Unreachable` when
        the database does not answer, `ReadOnly` when it may not be written."""
        try:
            with self.engine.begin() as connection:
                if _revision(connection) != HEAD:
                    from alembic import command

                    config = self.alembic_config()
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                if self.is_sqlite:
                    # SQLite opens a file it may not write read-only, and while another
                    # process keeps its WAL open even BEGIN IMMEDIATE succeeds: only a write
                    # tells, so a read-only database fails here, not at the first report.
                    connection.exec_driver_sql(
                        "UPDATE alembic_version SET version_num = version_num"
                    )
        except (OperationalError, InterfaceError) as error:
            raise (ReadOnly if _read_only(error) else Unreachable)(self.url, error) from None

    def ping(self) -> bool:
        """Does the database answer a query now?"""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except (OperationalError, InterfaceError):
            return False
        return True

    def create_all(self) -> None:
        """Create the tables straight from the models: for tests, which check separately that
        the migrations build the same schema."""
        SQLModel.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
