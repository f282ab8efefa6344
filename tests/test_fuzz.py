"""Every command of the table with arguments hypothesis makes up: words of the commands, their
options, codes of the campaign, odd digits (`²`, `①`, `٣`), control characters, quotes, huge and
long values. Whatever comes in, the answer is never an error id ("Sorry, something went
wrong"), and a command answered with an error has written nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import SQLModel, select

from handlers.commands.table import COMMANDS
from storage.db import Database
from tests.conftest import Chat

# What the user may have been told of or wrote on purpose; the failures /join records are its
# own (they slow down guessing), and the account and chat rows are the platform's.
KEPT = {"account", "chat", "join_failure", "outgoing", "delivery"}
WORDS = [
    *{word for c in COMMANDS for word in (c.example or c.usage).split()[1:]},
    *("t1", "t2", "ap-1", "ap-2", "binh-son", "households", "road_m", "vnd", "road", "none"),
    *("hộ", "đường", "tiền", "12", "2tr5", "1,3 tỷ", "350m", "hôm qua", "yes", "có", "#1"),
    *("²", "①", "٣", "١٢:٠٠", "-1", "1e309", "nan", "inf", "0", "9" * 30, "99999999999"),
    *("\x00", "\x1b[31m", "\r\n", "\t", '"', "'", "“", "=", "@", ":", "x" * 1200, "Ấ" * 250),
]
KEYS = sorted(
    {word.split("=")[0] for c in COMMANDS for word in (c.example or c.usage).split() if "=" in word}
    | {"team", "note", "date", "by", "at", "uses", "days", "parent", "unit", "en", "max", "tz"}
)
TOKEN = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS), st.sampled_from(WORDS)),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
)


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables
            if table.name not in KEPT
        }


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    command=st.sampled_from(COMMANDS),
    user=st.sampled_from(["root", "an", "lan", "hoa", "nobody"]),
    tokens=st.lists(TOKEN, max_size=6),
)
def test_no_arguments_end_in_an_error_id_or_a_partial_write(
    campaign: Chat, db: Database, command: object, user: str, tokens: list[str]
) -> None:
    line = f"/{command.path} {' '.join(tokens)}"  # type: ignore[attr-defined]
    before = counts(db)
    reply = campaign.say(user, line[:2100])
    assert "something went wrong" not in reply.text, line
    if reply.is_error:
        assert counts(db) == before, line
