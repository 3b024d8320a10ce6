"""indexes that match what members list and look up

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 01:10:00

`agenda_links(target_type, target_id)`: a session or practice shows the points that link to
it, looked up by the target.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agenda_links", schema=None) as batch_op:
        batch_op.create_index("ix_agenda_links_target", ["target_type", "target_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agenda_links", schema=None) as batch_op:
        batch_op.drop_index("ix_agenda_links_target")
