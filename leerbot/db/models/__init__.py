"""All models, imported here so that `Base.metadata` knows every table (Alembic needs it)."""

from leerbot.db.models.base import Base, UTCDateTime, utcnow
from leerbot.db.models.community import AuditEntry, Community, Member, Organisation, Site
from leerbot.db.models.scheduling import ScheduledJob
from leerbot.db.models.sessions import (
    ReminderDelivery,
    SessionAttendance,
    SessionOccurrence,
    SessionRole,
    SessionRsvp,
    SessionSeries,
)

__all__ = [
    "AuditEntry",
    "Base",
    "Community",
    "Member",
    "Organisation",
    "ReminderDelivery",
    "ScheduledJob",
    "SessionAttendance",
    "SessionOccurrence",
    "SessionRole",
    "SessionRsvp",
    "SessionSeries",
    "Site",
    "UTCDateTime",
    "utcnow",
]
