"""one inbox and one outbox for every platform, and leases on digest claims

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:05:00

`inbound_update` (Telegram only) becomes `delivery`, keyed by a string so Slack trigger ids
and Zalo message ids fit; rows not yet processed are carried over. `outgoing` is new.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", Text(length=64), nullable=False),
        sa.Column("key", Text(length=200), nullable=False),
        sa.Column("chat", Text(length=128), nullable=False),
        sa.Column("payload", Text(), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.Column("lease_owner", Text(length=64), nullable=True),
        sa.Column("lease_until", UTC(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", UTC(), nullable=True),
        sa.Column("error", Text(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "key"),
    )
    op.create_index("ix_delivery_open", "delivery", ["done_at", "source", "chat", "id"])
    op.execute(
        "INSERT INTO delivery (source, key, chat, payload, received_at, attempts) "
        "SELECT source, CAST(update_id AS VARCHAR(200)), '', payload, received_at, 0 "
        "FROM inbound_update WHERE processed_at IS NULL ORDER BY update_id"
    )
    with op.batch_alter_table("inbound_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_update_processed_at"))
    op.drop_table("inbound_update")
    op.create_table(
        "outgoing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", Text(length=16), nullable=False),
        sa.Column("target", Text(length=128), nullable=False),
        sa.Column("payload", Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("not_before", UTC(), nullable=False),
        sa.Column("lease_owner", Text(length=64), nullable=True),
        sa.Column("lease_until", UTC(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.Column("status", Text(length=16), nullable=False),
        sa.Column("error", Text(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outgoing_open", "outgoing", ["sent_at", "platform", "not_before", "id"])
    with op.batch_alter_table("digest_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", UTC(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest_delivery", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
    op.drop_index("ix_outgoing_open", table_name="outgoing")
    op.drop_table("outgoing")
    op.create_table(
        "inbound_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", Text(length=64), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", Text(), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.Column("processed_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "update_id"),
    )
    with op.batch_alter_table("inbound_update", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_update_processed_at"), ["processed_at"], unique=False
        )
    op.drop_index("ix_delivery_open", table_name="delivery")
    op.drop_table("delivery")
