"""reviewed summaries, the audience's own place, removed answers, the welcome

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leerbot.db.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role_channels", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "welcomed_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
    # Members who already used the bot have met it: no welcome out of the blue.
    op.execute("UPDATE members SET welcomed_at = created_at")
    with op.batch_alter_table("reflection_rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("summary_to", sa.String(length=16), nullable=False, server_default="audience")
        )
        batch_op.add_column(sa.Column("review_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "reviewed_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("published_channel_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("published_message_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            "fk_reflection_rounds_reviewed_by_id_members",
            "members",
            ["reviewed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Rounds closed before reviews existed had their summary posted already.
    op.execute(
        "UPDATE reflection_rounds SET review_state = 'published' "
        "WHERE status = 'closed' AND summary_posted"
    )
    for table in ("reflection_named_answers", "reflection_anonymous_answers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("removed", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    for table in ("reflection_anonymous_answers", "reflection_named_answers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("removed")
    with op.batch_alter_table("reflection_rounds", schema=None) as batch_op:
        batch_op.drop_constraint("fk_reflection_rounds_reviewed_by_id_members", type_="foreignkey")
        batch_op.drop_column("published_message_id")
        batch_op.drop_column("published_channel_id")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("review_state")
        batch_op.drop_column("summary_to")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("welcomed_at")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("channel_id")
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("role_channels")
