"""indexes that match what members list and look up

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 01:10:00

- `agenda_links(target_type, target_id)`: a session or practice shows the points that link
  to it, looked up by the target.
- `agenda_items`: `/agenda lijst` reads a page along an index that matches its filter and
  sort (keyset paging), instead of sorting the whole community for every page. The old
  `ix_agenda_items_listing` (community, status, support) goes. They are partial indexes of
  the points not merged away (every list leaves merged points out), with `id` as the
  tie-break of the order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINKS = {"ix_agenda_links_target": ["target_type", "target_id"]}
# partial: only points not merged away (see leerbot/db/models/agenda.py)
LISTING = {
    "ix_agenda_items_by_support": ["community_id", "support_count", "id"],
    "ix_agenda_items_by_date": ["community_id", "created_at", "id"],
    "ix_agenda_items_by_status": ["community_id", "status", "support_count", "id"],
    "ix_agenda_items_by_theme": ["community_id", "theme", "support_count", "id"],
    "ix_agenda_items_by_site": ["community_id", "site_id", "support_count", "id"],
    "ix_agenda_items_by_kind": ["community_id", "kind", "support_count", "id"],
}
NOT_MERGED = "merged_into_id IS NULL"
REPLACED = {"ix_agenda_items_listing": ["community_id", "status", "support_count"]}


def upgrade() -> None:
    with op.batch_alter_table("agenda_links", schema=None) as batch_op:
        for name, columns in LINKS.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        for name in REPLACED:
            batch_op.drop_index(name)
        for name, columns in LISTING.items():
            batch_op.create_index(
                name,
                columns,
                unique=False,
                postgresql_where=sa.text(NOT_MERGED),
                sqlite_where=sa.text(NOT_MERGED),
            )


def downgrade() -> None:
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        for name in LISTING:
            batch_op.drop_index(name)
        for name, columns in REPLACED.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("agenda_links", schema=None) as batch_op:
        for name in LINKS:
            batch_op.drop_index(name)
