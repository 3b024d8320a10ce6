"""forget-me leaves nothing: keys are never handed out twice, saved searches have an owner

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 22:30:00

On SQLite every table with an integer key of its own is copied once to get AUTOINCREMENT:
without it SQLite gives the highest key + 1 again after the row with the highest key was
deleted, so the next new member could get a deleted member's key (and with it that member's
old audit rows). PostgreSQL's sequences never reuse a value: there only the new column is
added. `leerbot.db.migrate` turns SQLite's foreign keys off while migrating, so that dropping
the old copy of a table does not cascade into the rows that refer to it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table with a single integer key of its own at this revision (a migration is a
# snapshot: later tables get AUTOINCREMENT in the migration that creates them).
TABLES = (
    "communities",
    "organisations",
    "sites",
    "members",
    "audit_entries",
    "scheduled_jobs",
    "session_series",
    "session_occurrences",
    "session_rsvps",
    "session_roles",
    "session_attendance",
    "reminder_deliveries",
    "reflection_schedules",
    "reflection_rounds",
    "reflection_recipients",
    "reflection_named_answers",
    "agenda_items",
    "agenda_supports",
    "agenda_status_changes",
    "agenda_links",
    "practices",
    "practice_revisions",
    "practice_links",
    "saved_searches",
)

# Keys the audit trail still names although their rows may be gone (a deleted member, a
# removed site): SQLite must not hand them out again either.
AUDIT_TARGETS = {
    "communities": "community",
    "organisations": "organisation",
    "sites": "site",
    "members": "member",
    "session_series": "session_series",
    "session_occurrences": "session_occurrence",
    "reflection_schedules": "reflection_schedule",
    "reflection_rounds": "reflection_round",
    "agenda_items": "agenda_item",
    "practices": "practice",
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _refuse_cascading_copies() -> None:
    """Copying `members` with foreign keys on would delete every row that refers to it."""
    if op.get_bind().exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "migration 0010 copies tables; on SQLite run it with `leerbot db upgrade` "
            "(foreign keys off while migrating), not with alembic directly"
        )


def _remember_audited_keys() -> None:
    """Start each table's counter above every key the audit trail names (members deleted
    before this version), not only above the keys still in the table."""
    bind = op.get_bind()
    for table, target_type in AUDIT_TARGETS.items():
        highest = bind.execute(
            sa.text(
                "SELECT max(CAST(target_id AS INTEGER)) FROM audit_entries "
                "WHERE target_type = :kind AND target_id GLOB '[0-9]*'"
            ),
            {"kind": target_type},
        ).scalar()
        if table == "members":
            in_details = bind.execute(
                sa.text(
                    "SELECT max(CAST(json_extract(details, '$.member') AS INTEGER)) "
                    "FROM audit_entries WHERE json_type(details, '$.member') = 'integer'"
                )
            ).scalar()
            highest = max(highest or 0, in_details or 0)
        if not highest:
            continue
        current = bind.execute(
            sa.text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table}
        ).scalar()
        if current is None:
            bind.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"),
                {"name": table, "seq": highest},
            )
        elif current < highest:
            bind.execute(
                sa.text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :name"),
                {"name": table, "seq": highest},
            )


def upgrade() -> None:
    sqlite = _sqlite()
    if sqlite:
        _refuse_cascading_copies()
        for table in TABLES:
            if table == "saved_searches":
                continue  # below, with its new column
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass
    with op.batch_alter_table(
        "saved_searches",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True} if sqlite else {},
    ) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_saved_searches_member_id_members"),
            "members",
            ["member_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_saved_searches_member_id"), ["member_id"], unique=False
        )
    if sqlite:
        _remember_audited_keys()


def downgrade() -> None:
    sqlite = _sqlite()
    if sqlite:
        _refuse_cascading_copies()
    with op.batch_alter_table(
        "saved_searches", recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_searches_member_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_saved_searches_member_id_members"), type_="foreignkey"
        )
        batch_op.drop_column("member_id")
    if sqlite:
        # a plain copy (reflection does not carry AUTOINCREMENT): the tables as 0009 made them
        for table in TABLES:
            if table == "saved_searches":
                continue
            with op.batch_alter_table(table, recreate="always"):
                pass
