"""scheduler lease: one runner of scheduled work per database, and who claimed each job

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 09:00:00

`scheduler_leases` holds who runs scheduled work (holder, priority, expiry renewed by the
holder); it replaces the PostgreSQL advisory lock and works on SQLite too.
`running_processes` is one row per running bot or console, renewed on the same timer: what
`leerbot health` reads (the scheduler's last tick, the last sign of the Discord connection),
and how a process that takes over knows which claimed jobs were cut off by a crash.
`scheduled_jobs.claimed_by` names the process that claimed a job. Both new tables have a
text key, so SQLite needs no AUTOINCREMENT for them; `scheduled_jobs` keeps its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leerbot.db.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=160), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("acquired_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "running_processes",
        sa.Column("holder", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ticked_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("gateway_at", leerbot.db.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("holder", name=op.f("pk_running_processes")),
    )
    with op.batch_alter_table(
        "scheduled_jobs", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=160), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "scheduled_jobs", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("claimed_by")
    op.drop_table("running_processes")
    op.drop_table("scheduler_leases")
