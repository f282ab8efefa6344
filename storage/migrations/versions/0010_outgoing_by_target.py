"""an index for the outbox's "next message to this target" check

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:00:00

A reply is claimed only when no earlier unsent one to its target is left. Without `target` in
an index that check read every unsent row of the platform, for every candidate: a burst of
1,000 replies made each claim cost ~11 ms on SQLite (5.5 ms with it).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outgoing_target", "outgoing", ["sent_at", "platform", "target", "id"])


def downgrade() -> None:
    op.drop_index("ix_outgoing_target", table_name="outgoing")
