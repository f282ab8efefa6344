"""roles waiting for someone who has not written to the bot yet

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00

`/role <user> …` for a platform id the bot has not met stores the role here; the account's
first contact turns it into a membership and deletes the row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "pending_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", Text(length=128), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("role", Text(length=16), nullable=False),
        sa.Column("team_ids", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "campaign_id"),
    )
    with op.batch_alter_table("pending_role", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_role_campaign_id"), ["campaign_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_role_campaign_id"))
    op.drop_table("pending_role")
