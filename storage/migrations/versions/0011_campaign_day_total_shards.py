"""a campaign's daily totals in several rows, by team

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:05:00

Every report of a campaign moved the one row of its day's total, and on PostgreSQL an upsert
holds that row's lock until the report's transaction ends: a burst of one campaign's reports
queued on it (64 ms a report). The total is now kept in up to 16 rows per day (by team, see
storage/reports.py) and read as their sum. The rows there are become shard 0.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _table(name: str, *, shard: bool) -> None:
    op.create_table(
        name,
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *([sa.Column("shard", sa.Integer(), nullable=False)] if shard else []),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["metric_id"], ["metric.id"]),
        sa.PrimaryKeyConstraint("metric_id", "day", *(["shard"] if shard else [])),
    )


def _swap(copy: str, *, shard: bool) -> None:
    """The table rebuilt with or without the shard column, by copy: changing a primary key in
    place is not portable (SQLite cannot)."""
    _table("campaign_day_total_new", shard=shard)
    op.execute(copy)
    op.drop_index("ix_campaign_day_total_campaign_id", table_name="campaign_day_total")
    op.drop_table("campaign_day_total")
    op.rename_table("campaign_day_total_new", "campaign_day_total")
    op.create_index("ix_campaign_day_total_campaign_id", "campaign_day_total", ["campaign_id"])


def upgrade() -> None:
    _swap(
        "INSERT INTO campaign_day_total_new (metric_id, day, shard, campaign_id, total) "
        "SELECT metric_id, day, 0, campaign_id, total FROM campaign_day_total",
        shard=True,
    )


def downgrade() -> None:
    _swap(
        "INSERT INTO campaign_day_total_new (metric_id, day, campaign_id, total) "
        "SELECT metric_id, day, MIN(campaign_id), SUM(total) FROM campaign_day_total "
        "GROUP BY metric_id, day",
        shard=False,
    )
