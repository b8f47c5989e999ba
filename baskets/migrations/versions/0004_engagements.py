"""Matching runs, engagements of offers and volunteers with project needs, logged hours.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:56:06.893937
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('matching_runs',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=True),
    sa.Column('solver_status', sa.String(length=16), nullable=False),
    sa.Column('time_limit', sa.Double(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('wall_seconds', sa.Double(), nullable=False),
    sa.Column('worst_share', sa.Double(), nullable=False),
    sa.Column('hours_covered', sa.Double(), nullable=False),
    sa.Column('hours_needed', sa.Double(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('assignments', sa.JSON(), nullable=False),
    sa.Column('uncovered', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_matching_runs_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_matching_runs_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_runs'))
    )
    with op.batch_alter_table('matching_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matching_runs_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('engagements',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=True),
    sa.Column('offer_id', sa.Uuid(), nullable=True),
    sa.Column('volunteer_id', sa.Uuid(), nullable=True),
    sa.Column('provider_organisation_id', sa.Uuid(), nullable=True),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('project_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('need_id', sa.Uuid(), nullable=True),
    sa.Column('skill', sa.String(length=64), nullable=False),
    sa.Column('hours', sa.Double(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('distance_km', sa.Double(), nullable=False),
    sa.Column('remote', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'declined', 'in_progress', 'completed', name='engagementstatus', native_enum=False, length=32), nullable=False),
    sa.Column('provider_decision', sa.Enum('pending', 'accepted', 'declined', name='decision', native_enum=False, length=32), nullable=False),
    sa.Column('project_decision', sa.Enum('pending', 'accepted', 'declined', name='decision', native_enum=False, length=32), nullable=False),
    sa.Column('provider_decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('project_decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['project_needs.id'], name=op.f('fk_engagements_need_id_project_needs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_engagements_offer_id_offers')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_engagements_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_engagements_project_id_projects')),
    sa.ForeignKeyConstraint(['project_organisation_id'], ['organisations.id'], name=op.f('fk_engagements_project_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['provider_organisation_id'], ['organisations.id'], name=op.f('fk_engagements_provider_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['run_id'], ['matching_runs.id'], name=op.f('fk_engagements_run_id_matching_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_engagements_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagements'))
    )
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagements_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engagements_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engagements_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engagements_project_organisation_id'), ['project_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engagements_provider_organisation_id'), ['provider_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engagements_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engagements_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('engagement_hours',
    sa.Column('engagement_id', sa.Uuid(), nullable=False),
    sa.Column('logged_by', sa.Uuid(), nullable=False),
    sa.Column('worked_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Double(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], name=op.f('fk_engagement_hours_approved_by_users')),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_engagement_hours_engagement_id_engagements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['logged_by'], ['users.id'], name=op.f('fk_engagement_hours_logged_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_hours'))
    )
    with op.batch_alter_table('engagement_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagement_hours_engagement_id'), ['engagement_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('engagement_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagement_hours_engagement_id'))

    op.drop_table('engagement_hours')
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagements_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_engagements_run_id'))
        batch_op.drop_index(batch_op.f('ix_engagements_provider_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_engagements_project_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_engagements_project_id'))
        batch_op.drop_index(batch_op.f('ix_engagements_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_engagements_offer_id'))

    op.drop_table('engagements')
    with op.batch_alter_table('matching_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matching_runs_organisation_id'))

    op.drop_table('matching_runs')
