"""A phone for each distribution point and farm: drivers call the place from their round sheet.

Revision ID: 0140
Revises: 0006
Create Date: 2026-12-07 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0140'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('distribution_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=32), nullable=True))
    with op.batch_alter_table('farmers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('farmers', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
    with op.batch_alter_table('distribution_points', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
