"""moderators hide the text of agenda points and practices

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leerbot.db.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("agenda_items", "practices")


def upgrade() -> None:
    # On SQLite a new foreign key means copying the table (batch mode); leerbot.db.migrate
    # turns SQLite's foreign keys off around migrations, so that dropping the old copy does
    # not cascade into supports, status steps, links and revisions.
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "hidden_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True
                )
            )
            batch_op.add_column(sa.Column("hidden_reason", sa.String(length=300), nullable=True))
            batch_op.add_column(sa.Column("hidden_by_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_hidden_by_id_members"),
                "members",
                ["hidden_by_id"],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_hidden_by_id_members"), type_="foreignkey"
            )
            batch_op.drop_column("hidden_by_id")
            batch_op.drop_column("hidden_reason")
            batch_op.drop_column("hidden_at")
