"""`tiendo run` with Slack in HTTP mode as a real process, configured from TIENDO_SLACK_* alone,
against the fake Slack Web API: a burst of signed `/tiendo report N hộ` slash commands, and the
process killed with SIGKILL right after Slack got its acks (while the confirmations go out),
several times. Slack never redelivers a slash command, so the ack (the 200) is the promise:
every acknowledged report is stored once, with its own value, and its confirmation reaches its
`response_url` (at most the ones in flight at a kill go twice)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from storage.db import Database
from storage.models import Report, ReportValue
from tests.conftest import PG_ADMIN_URL
from tests.fakes.slack_api import BOT_TOKEN, CHANNEL_ID, TEAM_ID, FakeSlack, SignedRequests
from tests.faults import APOLOGIES

SECRET = "slack-run-secret"
ADMIN = "U0ALICE"
REPORTERS = [f"U0REP{n}" for n in range(6)]
CONFIRMED = re.compile(r"✅[^#]*#(\d+)")
TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database the process migrates itself, as a fresh install would."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tiendo.db'}"
        return
    name = f"tiendo_slackrun_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server: say why, then skip
        admin.dispose()
        pytest.skip(f"PostgreSQL not available at {PG_ADMIN_URL}: {error.__class__.__name__}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Process:
    """One `tiendo run` at a time on a fixed port, so Slack's request URL survives restarts."""

    def __init__(self, fake: FakeSlack, database: str, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.env = os.environ | {
            "TIENDO_DATABASE_URL": database,
            "TIENDO_SLACK_BOT_TOKEN": BOT_TOKEN,
            "TIENDO_SLACK_SIGNING_SECRET": SECRET,
            "TIENDO_SLACK_MODE": "http",
            "TIENDO_SLACK_API_BASE_URL": fake.api_url,
            "TIENDO_SERVER_PORT": str(self.port),
            "TIENDO_SERVER_INSTANCE": "slack-run-test",
            "TIENDO_ADMINS_SUPERADMINS": f"slack:{TEAM_ID}:{ADMIN}",
        }
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from bot.cli import main; main()",
            "run",
            env=self.env,
            cwd=self.folder,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=(self.folder / "tiendo.log").open("ab"),
        )
        # Up once /healthz answers: the Slack route is mounted on the same server.
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    assert self.process.returncode is None, "tiendo run exited at start"
                    try:
                        async with session.get(f"http://127.0.0.1:{self.port}/healthz") as r:
                            if r.status == 200:
                                return
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), TIMEOUT)


class Slack:
    """Acts as Slack towards the process: each command gets its own trigger id and
    response_url name, so every answer can be traced to the command it answers."""

    def __init__(self, fake: FakeSlack, url: str) -> None:
        self.fake = fake
        self.url = url
        self.signed = SignedRequests(SECRET)
        self.count = 0

    async def post(self, name: str, line: str, user: str, channel: str) -> int:
        request = self.signed.slash_command(
            command="/tiendo",
            text=line,
            user_id=user,
            user_name=user.lower(),
            channel_id=channel,
            channel_name="general" if channel == CHANNEL_ID else "directmessage",
            trigger_id=f"trigger-{name}",
            response_url=self.fake.response_url(name),
        )
        status, _ = await SignedRequests.send(self.url, request)
        return status

    def answers(self, name: str) -> list[str]:
        return [r.body.get("text", "") for r in self.fake.responses if r.name == name]

    async def ask(self, line: str, user: str = ADMIN, channel: str = CHANNEL_ID) -> str:
        self.count += 1
        name = f"setup{self.count}"
        assert await self.post(name, line, user, channel) == 200
        await self.fake.wait_for(lambda: self.answers(name), TIMEOUT)
        return self.answers(name)[0]


async def join_reporters(slack: Slack, users: list[str]) -> dict[str, str]:
    """The admin sets up campaign `road` (metric `hộ`, team t1); each of `users` joins t1 from
    their own DM, so the outbox answers them in parallel. Returns each user's DM id."""
    for line in (
        'campaign new road "Đường" start=2025-01-01',
        'metric add households "Hộ" unit=household aliases=hộ',
        'team add t1 "Tổ 1"',
    ):
        answer = await slack.ask(line)
        assert not answer.startswith(("⚠️", "⛔")), answer
    invite = await slack.ask("invite t1 uses=100 days=90")
    code = invite.split()[2].rstrip(":")
    dms = {user: "D" + user.removeprefix("U") for user in users}
    for user in users:
        slack.fake.add_user(user, user.lower(), f"Tổ viên {user[-1]}")
        slack.fake.channels[dms[user]] = {"id": dms[user], "is_im": True, "user": user}
        assert "Tổ 1" in await slack.ask(f"join {code}", user, dms[user])
    return dms


@dataclass(frozen=True)
class Figures:
    sent: int  # acknowledged reports
    stored: int
    doubled: int
    lost: int
    kills: int
    confirmed_twice: int


def stored_values(url: str) -> dict[float, list[int]]:
    """Each stored report value and the ids of the active reports carrying it."""
    db = Database(url)
    with db.session() as session:
        rows = session.exec(
            select(ReportValue.value, Report.id)
            .join(Report, col(Report.id) == ReportValue.report_id)
            .where(Report.status == "active")
        ).all()
        triggers = Counter(session.exec(select(Report.source_message_id)).all())
    db.dispose()
    assert all(n == 1 for n in triggers.values()), "a delivery recorded twice"
    values: dict[float, list[int]] = {}
    for value, report_id in rows:
        values.setdefault(value, []).append(report_id or 0)
    return values


async def test_tiendo_run_with_slack_survives_kill_9_right_after_its_acks(
    database: str, tmp_path: Path
) -> None:
    rng = random.Random(3)
    async with FakeSlack() as fake:
        process = Process(fake, database, tmp_path)
        slack = Slack(fake, process.url)
        await process.start()
        try:
            dms = await join_reporters(slack, REPORTERS)

            acked: dict[str, float] = {}  # response_url name → the value its report carries
            kills, value = 0, 100
            for batch in range(3):
                names = []
                for n in range(24):
                    value += 1
                    names.append((f"v{value}", float(value), REPORTERS[n % len(REPORTERS)]))
                statuses = await asyncio.gather(
                    *(slack.post(name, f"report {v:g} hộ", u, dms[u]) for name, v, u in names)
                )
                assert statuses == [200] * len(names)
                acked |= {name: v for name, v, _ in names}
                # Killed the moment the acks are back, or while the first answers go out.
                if batch == 1:
                    await fake.wait_for(lambda ns=names: any(slack.answers(n) for n, *_ in ns))
                else:
                    await asyncio.sleep(rng.uniform(0, 0.05))
                await process.kill()
                kills += 1
                await process.start()

            with contextlib.suppress(AssertionError):  # what is missing is named below
                await fake.wait_for(lambda: all(slack.answers(name) for name in acked), TIMEOUT)
            await asyncio.sleep(1)  # an answer sent twice would have arrived by now
            stored = stored_values(database)
            for name, v in acked.items():
                answers = slack.answers(name)
                assert len(stored.get(v, [])) == 1, f"report {v:g}: stored {stored.get(v)}"
                assert answers, f"report {v:g} never confirmed"
                ids = {int(i) for a in answers for i in CONFIRMED.findall(a)}
                assert ids == set(stored[v]), f"report {v:g} answered {answers}"
            texts = [r.body.get("text", "") for r in fake.responses]
            assert not [t for t in texts if any(a in t.lower() for a in APOLOGIES)]
            twice = sum(1 for name in acked if len(slack.answers(name)) > 1)
            figures = Figures(
                sent=len(acked),
                stored=sum(len(ids) for ids in stored.values()),
                doubled=sum(len(ids) - 1 for ids in stored.values() if len(ids) > 1),
                lost=sum(1 for v in acked.values() if v not in stored),
                kills=kills,
                confirmed_twice=twice,
            )
            print(f"\nslack kill -9 ({database.split(':')[0]}): {figures}")
            assert figures.stored == figures.sent and not figures.doubled and not figures.lost
            # Only answers sent but not yet marked sent at a kill go again: one outbox batch
            # (bot/outbox.BATCH) a kill at most.
            assert twice <= 16 * kills
            assert await process.terminate() == 0
        finally:
            await process.kill()
