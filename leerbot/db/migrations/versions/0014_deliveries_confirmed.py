"""deliveries confirmed: every message the bot creates is recorded before its first attempt
and confirmed with Discord's id after Discord accepted it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:00:00

`reminder_deliveries` (one message of a job to one member) gains where the message went
(`channel_id`, `message_id`), the start of the current nonce window (`attempted_at`), what
the attempts sent (`fingerprints`, to recognise the message in the channel's history after
the window), how often it was tried and why it is not delivered (`reason`).
`channel_posts` records the same for what the bot posts in channels and threads (cards,
summaries, thread introductions, digests) and for threads it opens without a message.
`reflection_rounds.undelivered_count` keeps, at the seal, how many of the round's messages
never arrived (its delivery records go at the seal). Rows already in `reminder_deliveries`
keep their `via`: sent ones had no id to record, and their attempts count stays 0.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leerbot.db.models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "reminder_deliveries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("channel_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "attempted_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("fingerprints", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
    op.create_table(
        "channel_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("job_key", sa.String(length=160), nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("attempted_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fingerprints", sa.String(length=160), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_channel_posts_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_posts")),
        sa.UniqueConstraint("key", name=op.f("uq_channel_posts_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("channel_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_posts_community_id"), ["community_id"], unique=False
        )
    with op.batch_alter_table(
        "reflection_rounds", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("undelivered_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "reflection_rounds", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("undelivered_count")
    with op.batch_alter_table("channel_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_posts_community_id"))
    op.drop_table("channel_posts")
    with op.batch_alter_table(
        "reminder_deliveries", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("attempts")
        batch_op.drop_column("fingerprints")
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("message_id")
        batch_op.drop_column("channel_id")
