"""Audit of duplicate lookups; idempotency records name the resource they created, so an
erasure can purge the stored answer.

Revision ID: 0212
Revises: 0211
Create Date: 2026-12-07 23:15:00.000000
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0212'
down_revision: str | None = '0211'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'duplicate_lookups',
        sa.Column('organisation_id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('households', sa.Integer(), nullable=False),
        sa.Column('flagged', sa.Integer(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_duplicate_lookups_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_duplicate_lookups_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_lookups')),
    )
    with op.batch_alter_table('duplicate_lookups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_lookups_organisation_id'),
                              ['organisation_id'], unique=False)
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resource_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_idempotency_keys_resource_id'), ['resource_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'],
                              unique=False)
    # Name the resource of the records kept so far (the "id" of each stored answer).
    keys = sa.table('idempotency_keys', sa.column('id', sa.Uuid()),
                    sa.column('response', sa.JSON()), sa.column('resource_id', sa.Uuid()))
    connection = op.get_bind()
    for record_id, response in connection.execute(sa.select(keys.c.id, keys.c.response)).all():
        value = response.get('id') if isinstance(response, dict) else None
        try:
            resource = uuid.UUID(str(value)) if value else None
        except ValueError:
            resource = None
        if resource is not None:
            connection.execute(keys.update().where(keys.c.id == record_id)
                               .values(resource_id=resource))


def downgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_resource_id'))
        batch_op.drop_column('resource_id')
    with op.batch_alter_table('duplicate_lookups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_lookups_organisation_id'))
    op.drop_table('duplicate_lookups')
