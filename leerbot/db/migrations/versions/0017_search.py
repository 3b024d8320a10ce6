"""search: the practices a member may find, in an index that answers the ranked query

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 02:30:00

Search ranks the full-text hits of one community and keeps those a member may see (shared,
not hidden, and the filters of the command: site, theme, level, named only). Looking each hit
up in `practices` read every hit's whole row (the practice's text); a partial index of the
searchable practices holding the columns the filters read answers the same lookup from the
index alone. It is declared beside the search code (`leerbot.search.practices`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_practices_searchable"
COLUMNS = ["community_id", "id", "site_id", "anonymous", "theme", "level"]
SEARCHABLE = "state = 'shared' AND hidden_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.create_index(
            NAME,
            COLUMNS,
            unique=False,
            postgresql_where=sa.text(SEARCHABLE),
            sqlite_where=sa.text(SEARCHABLE),
        )


def downgrade() -> None:
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_index(NAME)
