"""scheduler: an index of the pending jobs in time order

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 02:00:00

The scheduler arms only the pending jobs due within its horizon, read in batches in
(due_at, id) order (keyset paging), and `run_due` reads the pending ones that are due. A
partial index of the rows not yet claimed (`started_at IS NULL`), in that order, serves both
without reading the finished jobs of the past month.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_scheduled_jobs_armable"
COLUMNS = ["due_at", "id"]
PENDING = "started_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("scheduled_jobs", schema=None) as batch_op:
        batch_op.create_index(
            NAME,
            COLUMNS,
            unique=False,
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )


def downgrade() -> None:
    with op.batch_alter_table("scheduled_jobs", schema=None) as batch_op:
        batch_op.drop_index(NAME)
