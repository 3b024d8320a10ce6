"""sealed rounds: counts kept on the round, who-answered forgotten at close

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leerbot.db.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "reflection_rounds", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("sealed_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("asked_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("answered_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("skipped_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("anonymous_people", sa.Integer(), nullable=True))
    # Rounds closed before this version are sealed the next time the bot starts
    # (leerbot.core.reflections.seal_closed_rounds): that needs the application's randomness,
    # not SQL.


def downgrade() -> None:
    with op.batch_alter_table(
        "reflection_rounds", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("anonymous_people")
        batch_op.drop_column("skipped_count")
        batch_op.drop_column("answered_count")
        batch_op.drop_column("asked_count")
        batch_op.drop_column("sealed_at")
