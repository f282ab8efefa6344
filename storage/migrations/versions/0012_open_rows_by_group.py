"""the open deliveries and replies indexed by chat, partially

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:20:00

A row is claimed when it is the oldest open one of its chat (storage/leases.py), now found as
"the first open id of its chat", per candidate. The indexes led with `done_at` / `sent_at`, and
an `IS NULL` there does not let a database read the rest in id order: each look-up read every
open row of the chat, so a burst into one group chat cost (open rows)² a claim. Indexes of only
the open rows, by chat and id, answer it with one entry, and stay small: sent rows are kept for
a week.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _open_rows(name: str, table: str, columns: list[str], closed: str) -> None:
    where = sa.text(f"{closed} IS NULL")
    op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    op.drop_index("ix_delivery_open", table_name="delivery")
    _open_rows("ix_delivery_open_by_chat", "delivery", ["source", "chat", "id"], "done_at")
    op.drop_index("ix_outgoing_target", table_name="outgoing")
    _open_rows("ix_outgoing_open_by_target", "outgoing", ["platform", "target", "id"], "sent_at")


def downgrade() -> None:
    op.drop_index("ix_outgoing_open_by_target", table_name="outgoing")
    op.create_index("ix_outgoing_target", "outgoing", ["sent_at", "platform", "target", "id"])
    op.drop_index("ix_delivery_open_by_chat", table_name="delivery")
    op.create_index("ix_delivery_open", "delivery", ["done_at", "source", "chat", "id"])
