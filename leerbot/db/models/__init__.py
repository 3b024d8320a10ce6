"""All models, imported here so that `Base.metadata` knows every table (Alembic needs it)."""

from leerbot.db.models.base import Base, UTCDateTime, utcnow
from leerbot.db.models.community import AuditEntry, Community, Member, Organisation, Site

__all__ = [
    "AuditEntry",
    "Base",
    "Community",
    "Member",
    "Organisation",
    "Site",
    "UTCDateTime",
    "utcnow",
]
