"""Whole-process fault scenarios against the fake Telegram server: a real `tiendo run` (one
process per instance) killed with SIGKILL in the middle of a burst; two of them in webhook mode
on one PostgreSQL database behind a balancer that repeats POSTs, either killed at random.
tests/test_run.py runs the first short; bench/faults.py runs both long and prints the figures
docs/reliability.md quotes."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

from bot.config import AdminsConfig, Config, TelegramConfig
from storage.db import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.faults import Tally, tally

ADMIN = 1001
Obj = dict[str, Any]


def telegram_config(fake: FakeTelegram, **options: Any) -> Config:
    """`tiendo` against the fake Bot API, with ADMIN its superadmin, on a free port;
    `options` go to its `[telegram]` section."""
    config = Config(
        admins=AdminsConfig(superadmins=[f"telegram:{ADMIN}"]),
        telegram=TelegramConfig(
            token=SecretStr(fake.token),
            username=fake.username,
            api_base_url=fake.base_url.removesuffix("/bot"),
            **options,
        ),
    )
    config.server.port = 0
    return config


def environment(fake: FakeTelegram, database: str, **extra: str) -> dict[str, str]:
    return os.environ | {
        "TIENDO_DATABASE_URL": database,
        "TIENDO_TELEGRAM_TOKEN": fake.token,
        "TIENDO_TELEGRAM_USERNAME": fake.username,
        "TIENDO_TELEGRAM_API_BASE_URL": fake.base_url.removesuffix("/bot"),
        "TIENDO_ADMINS_SUPERADMINS": f"telegram:{ADMIN}",
        "TIENDO_SERVER_PORT": "0",
        **extra,
    }


async def start(env: dict[str, str], folder: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "run",
        env=env,
        cwd=folder,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=(folder / "tiendo.log").open("ab"),
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def join_reporters(fake: FakeTelegram, count: int, timeout: float) -> list[tuple[Obj, Obj]]:
    """The admin sets up a campaign with one team; `count` reporters join it."""
    admin = fake.user(ADMIN, "Lan", "vi")
    chat = fake.private_chat(admin)
    for line in (
        '/campaign new road "Đường" start=2025-01-01',
        '/metric add households "Hộ" unit=household aliases=hộ',
        '/team add t1 "Tổ 1"',
        "/invite t1 uses=1000 days=90",
    ):
        fake.push_message(chat, admin, line)
    invite = await fake.wait_for_message(chat["id"], "start=", timeout=timeout)
    code = (invite["text"] or "").split("start=")[1].split()[0]
    reporters = []
    for n in range(count):
        user = fake.user(3000 + n, f"Tổ viên {n}", "vi")
        private = fake.private_chat(user)
        fake.push_message(private, user, f"/start {code}")
        reporters.append((private, user))
    for private, _ in reporters:
        await fake.wait_for_message(private["id"], "Tổ 1", timeout=timeout)
    return reporters


@dataclass(frozen=True)
class KillRun:
    tally: Tally
    kills: int  # SIGKILLs the run survived


async def kill_burst(
    url: str, folder: Path, *, reports: int, reporters: int, kills: int, seed: int = 7
) -> KillRun:
    """`reporters` reporters send `reports` reports at once, each with its own value; `tiendo
    run` is killed with SIGKILL `kills` times at random moments of the burst and started again.
    Returns what was stored and confirmed, report by report."""
    rng = random.Random(seed)
    timeout = 60 + reports / 10
    async with FakeTelegram() as fake:
        env = environment(fake, url)
        process = await start(env, folder)
        try:
            people = await join_reporters(fake, reporters, timeout)
            chats = [chat for chat, _ in people]
            values = [float(100 + n) for n in range(reports)]
            for n, value in enumerate(values):
                chat, user = people[n % reporters]
                fake.push_message(chat, user, f"/report {value:g} hộ")

            def confirmed() -> int:
                return tally(db, values, replies(fake, chats)).confirmed

            db = Database(url)
            # Kill when a random share of the burst is confirmed, each later than the one before.
            moments = sorted(rng.uniform(0.05, 0.9) for _ in range(kills))
            survived = 0
            for share in moments:
                await fake.wait_for(lambda s=share: confirmed() >= s * reports, timeout=timeout)
                await asyncio.sleep(rng.uniform(0, 0.2))  # at any moment, not just after a send
                process.kill()
                await process.wait()
                survived += 1
                process = await start(env, folder)
            await fake.wait_for(lambda: confirmed() >= reports, timeout=timeout)
            await asyncio.sleep(1)  # a confirmation sent twice would arrive now
            result = tally(db, values, replies(fake, chats))
            db.dispose()
        finally:
            await stop(process)
        assert fake.violations == []
    return KillRun(result, survived)


def replies(fake: FakeTelegram, chats: list[Obj]) -> list[str]:
    return [m["text"] or "" for chat in chats for m in fake.messages(chat["id"])]


# --- two instances behind a balancer ----------------------------------------------------------
SECRET = "hook-secret_1"
HOOK = "https://bot.example.org/telegram/hook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Balancer:
    """In front of several `tiendo run` processes in webhook mode, as a load balancer with
    Telegram behind it: each update goes to one instance at random and `repeat` of them again
    at once to the other one; a POST that finds its instance dead (refused, not 200) is tried
    on the other after a pause, as Telegram retries until it gets its 200."""

    def __init__(self, fake: FakeTelegram, ports: list[int], *, repeat: float, seed: int) -> None:
        self.fake = fake
        self.urls = [f"http://127.0.0.1:{port}/telegram/hook" for port in ports]
        self.random = random.Random(seed)
        self.repeat = repeat
        self.posts = 0  # POSTs that got their 200
        self.repeated = 0  # updates posted to both instances
        self.refused = 0  # POSTs that found their instance down and went again

    async def _post(self, session: aiohttp.ClientSession, first: int, update: Obj) -> None:
        target = first
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for _ in range(600):  # bounded: two minutes of both instances down fails the run
            try:
                async with session.post(self.urls[target], json=update, headers=headers) as r:
                    if r.status == 200:
                        self.posts += 1
                        return
            except aiohttp.ClientError:
                pass
            self.refused += 1
            target = (target + 1) % len(self.urls)
            await asyncio.sleep(0.2)
        raise AssertionError(f"update {update['update_id']} never got a 200")

    async def deliver(self, session: aiohttp.ClientSession, update: Obj) -> None:
        first = self.random.randrange(len(self.urls))
        targets = [first]
        if self.random.random() < self.repeat:
            targets.append((first + 1) % len(self.urls))
            self.repeated += 1
        await asyncio.gather(*(self._post(session, t, update) for t in targets))

    async def say(self, session: aiohttp.ClientSession, chat: Obj, user: Obj, text: str) -> None:
        await self.deliver(session, self.fake.push_message(chat, user, text))


@dataclass(frozen=True)
class InstancesRun:
    tally: Tally
    kills: int
    killed: dict[str, int]  # SIGKILLs by instance
    posts: int
    repeated: int
    refused: int
    owners: set[str]  # instances that handled deliveries


async def two_instances_burst(
    url: str,
    folder: Path,
    *,
    reports: int,
    reporters: int,
    kills: int,
    repeat: float = 0.3,
    seed: int = 7,
) -> InstancesRun:
    """Two `tiendo run` processes in webhook mode on one PostgreSQL database behind a
    `Balancer`; `reporters` join, then send `reports` reports (each its own value, at most 32
    POSTs in flight) while either instance is killed with SIGKILL `kills` times at random
    moments and started again under its name. Returns what was stored and confirmed."""
    from sqlmodel import select

    from storage.models import Delivery

    rng = random.Random(seed)
    timeout = 120 + reports / 5
    names = ["tiendo-a", "tiendo-b"]
    ports = [free_port() for _ in names]
    async with FakeTelegram() as fake:
        envs = {
            name: environment(
                fake,
                url,
                TIENDO_TELEGRAM_MODE="webhook",
                TIENDO_TELEGRAM_WEBHOOK_URL=HOOK,
                TIENDO_TELEGRAM_WEBHOOK_SECRET=SECRET,
                TIENDO_SERVER_INSTANCE=name,
                TIENDO_SERVER_PORT=str(port),
            )
            for name, port in zip(names, ports, strict=True)
        }
        for name in names:
            (folder / name).mkdir(exist_ok=True)
        # One after the other: both would run the migrations at once on an empty database.
        processes = {names[0]: await start(envs[names[0]], folder / names[0])}
        lb = Balancer(fake, ports, repeat=repeat, seed=seed)
        db = Database(url)
        try:
            async with aiohttp.ClientSession() as session:
                await _healthy(session, ports[0], timeout)
                processes[names[1]] = await start(envs[names[1]], folder / names[1])
                await _healthy(session, ports[1], timeout)
                people = await _join(fake, lb, session, reporters, timeout)
                chats = [chat for chat, _ in people]
                values = [float(100 + n) for n in range(reports)]

                def confirmed() -> int:
                    return tally(db, values, replies(fake, chats)).confirmed

                gate = asyncio.Semaphore(32)  # POSTs in flight

                async def report(n: int, value: float) -> None:
                    async with gate:
                        chat, user = people[n % reporters]
                        await lb.say(session, chat, user, f"/report {value:g} hộ")

                async def feed() -> None:
                    # A steady stream, at most `window` reports ahead of the confirmations, so
                    # the kills fall while POSTs are in flight, not after the last one.
                    window, posting, done = 100, [], 0
                    for n, value in enumerate(values):
                        while n - done >= window:
                            await asyncio.sleep(0.2)
                            done = confirmed()
                        posting.append(asyncio.create_task(report(n, value)))
                    for task in posting:
                        await task  # a POST that never got its 200 fails the run here

                feeding = asyncio.create_task(feed())

                moments = sorted(rng.uniform(0.05, 0.9) for _ in range(kills))
                killed = dict.fromkeys(names, 0)
                for share in moments:
                    await fake.wait_for(lambda s=share: confirmed() >= s * reports, timeout)
                    await asyncio.sleep(rng.uniform(0, 0.2))
                    victim = rng.choice(names)
                    processes[victim].kill()
                    await processes[victim].wait()
                    killed[victim] += 1
                    processes[victim] = await start(envs[victim], folder / victim)
                await feeding
                await fake.wait_for(lambda: confirmed() >= reports, timeout)
                await asyncio.sleep(2)  # a confirmation sent twice would arrive now
                result = tally(db, values, replies(fake, chats))
                with db.session() as s:
                    owners = {o for o in s.exec(select(Delivery.lease_owner)).all() if o}
        finally:
            for process in processes.values():
                await stop(process)
            db.dispose()
        assert fake.violations == []
    return InstancesRun(
        result, sum(killed.values()), killed, lb.posts, lb.repeated, lb.refused, owners
    )


async def _healthy(session: aiohttp.ClientSession, port: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"no instance answered on port {port} within {timeout} s")


async def _join(
    fake: FakeTelegram, lb: Balancer, session: aiohttp.ClientSession, count: int, timeout: float
) -> list[tuple[Obj, Obj]]:
    """`join_reporters` through the balancer: the admin's commands one after the other."""
    admin = fake.user(ADMIN, "Lan", "vi")
    chat = fake.private_chat(admin)
    for n, line in enumerate(
        (
            '/campaign new road "Đường" start=2025-01-01',
            '/metric add households "Hộ" unit=household aliases=hộ',
            '/team add t1 "Tổ 1"',
            "/invite t1 uses=1000 days=90",
        ),
        1,
    ):
        await lb.say(session, chat, admin, line)
        await fake.wait_for(lambda n=n: len(fake.messages(chat["id"])) >= n, timeout)
    invite = await fake.wait_for_message(chat["id"], "start=", timeout=timeout)
    code = (invite["text"] or "").split("start=")[1].split()[0]
    people = []
    for n in range(count):
        user = fake.user(3000 + n, f"Tổ viên {n}", "vi")
        people.append((fake.private_chat(user), user))
    await asyncio.gather(*(lb.say(session, c, u, f"/start {code}") for c, u in people))
    for private, _ in people:
        await fake.wait_for_message(private["id"], "Tổ 1", timeout=timeout)
    return people
