"""Household fingerprints are keyed with their own sub-key: the old ones (keyed with the secret
key itself) are dropped; `duplicates.refresh` recomputes every household's from its stored
name and phone on the next lookup, so fingerprints stay comparable.

Revision ID: 0211
Revises: 0210
Create Date: 2026-12-07 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0211'
down_revision: str | None = '0210'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text('DELETE FROM household_fingerprints'))


def downgrade() -> None:
    # The same: fingerprints are a cache, recomputed under whichever key the code uses.
    op.execute(sa.text('DELETE FROM household_fingerprints'))
