"""team_last_report: each team's latest report day, kept with the running totals; team_day
indexed by campaign and day

Revision ID: 0005
Revises: 0004 (re-chain onto 0004 when both are merged)
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('team_last_report',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('team_id')
    )
    with op.batch_alter_table('team_last_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_last_report_campaign_id'), ['campaign_id'], unique=False)
    with op.batch_alter_table('team_day', schema=None) as batch_op:
        batch_op.create_index('ix_team_day_campaign_day', ['campaign_id', 'day'], unique=False)
    # Existing reports: each team's latest day with an active report, from the running totals.
    op.execute(
        "INSERT INTO team_last_report (team_id, campaign_id, day) "
        "SELECT team_id, campaign_id, MAX(day) FROM team_day WHERE reports > 0 "
        "GROUP BY team_id, campaign_id"
    )


def downgrade() -> None:
    with op.batch_alter_table('team_day', schema=None) as batch_op:
        batch_op.drop_index('ix_team_day_campaign_day')
    with op.batch_alter_table('team_last_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_last_report_campaign_id'))
    op.drop_table('team_last_report')
