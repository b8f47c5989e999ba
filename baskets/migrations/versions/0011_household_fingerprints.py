"""Household fingerprints: keyed hashes that flag possible duplicates across associations.

Revision ID: 0011
Revises: 0002
Create Date: 2026-11-22 04:15:43.051851
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('household_fingerprints',
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_fingerprints_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_household_fingerprints_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('household_id', name=op.f('pk_household_fingerprints'))
    )
    with op.batch_alter_table('household_fingerprints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_fingerprints_digest'), ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_fingerprints_organisation_id'), ['organisation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('household_fingerprints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_fingerprints_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_household_fingerprints_digest'))

    op.drop_table('household_fingerprints')
