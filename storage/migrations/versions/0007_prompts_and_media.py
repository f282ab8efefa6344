"""prompts (numbered choices and guided forms by text) and media served by URL, for Zalo

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "prompt",
        sa.Column("chat_key", Text(length=128), nullable=False),
        sa.Column("user_key", Text(length=128), nullable=False),
        sa.Column("kind", Text(length=16), nullable=False),
        sa.Column("state", Text(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("chat_key", "user_key"),
    )
    op.create_index(op.f("ix_prompt_expires_at"), "prompt", ["expires_at"])
    op.create_table(
        "media",
        sa.Column("token", Text(length=64), nullable=False),
        sa.Column("name", Text(length=200), nullable=False),
        sa.Column("mime_type", Text(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index(op.f("ix_media_expires_at"), "media", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_media_expires_at"), table_name="media")
    op.drop_table("media")
    op.drop_index(op.f("ix_prompt_expires_at"), table_name="prompt")
    op.drop_table("prompt")
