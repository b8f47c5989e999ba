"""Round plans and matching runs remember the job that stored them (one answer per job).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('round_plans', 'matching_runs')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('job_id', sa.Uuid(), nullable=True))
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_job_id'), ['job_id'])
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_job_id_jobs'), 'jobs',
                                        ['job_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_job_id_jobs'), type_='foreignkey')
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_job_id'), type_='unique')
            batch_op.drop_column('job_id')
