"""calendar identity: a random calendar key per community, a SEQUENCE per session series

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:00:00

Calendar files name a meeting by a UID that must be the same in every file holding it and
different from every other installation's: `communities.calendar_key` is a random value made
once per community (existing communities get theirs here). `session_series.calendar_sequence`
counts the changes a calendar sees, so that a newer file is taken as an update.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "communities", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("calendar_key", sa.String(length=32), nullable=True))
    communities = sa.table("communities", sa.column("id", sa.Integer), sa.column("calendar_key"))
    connection = op.get_bind()
    for (community_id,) in connection.execute(sa.select(communities.c.id)).all():
        connection.execute(
            communities.update()
            .where(communities.c.id == community_id)
            .values(calendar_key=secrets.token_hex(16))
        )
    with op.batch_alter_table(
        "communities", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("calendar_key", existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table(
        "session_series", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("calendar_sequence", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "session_series", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("calendar_sequence")
    with op.batch_alter_table(
        "communities", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("calendar_key")
