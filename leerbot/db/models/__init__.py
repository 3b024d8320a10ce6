"""All models, imported here so that `Base.metadata` knows every table (Alembic needs it)."""

from leerbot.db.models.agenda import AgendaItem, AgendaLink, AgendaStatusChange, AgendaSupport
from leerbot.db.models.base import Base, UTCDateTime, utcnow
from leerbot.db.models.community import AuditEntry, Community, Member, Organisation, Site
from leerbot.db.models.practices import Practice, PracticeLink, PracticeRevision, SavedSearch
from leerbot.db.models.reflections import (
    AnonymousAnswer,
    NamedAnswer,
    ReflectionPause,
    ReflectionRound,
    ReflectionSchedule,
    RoundRecipient,
)
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
    "AgendaItem",
    "AgendaLink",
    "AgendaStatusChange",
    "AgendaSupport",
    "AnonymousAnswer",
    "AuditEntry",
    "Base",
    "Community",
    "Member",
    "NamedAnswer",
    "Organisation",
    "Practice",
    "PracticeLink",
    "PracticeRevision",
    "ReflectionPause",
    "ReflectionRound",
    "ReflectionSchedule",
    "ReminderDelivery",
    "RoundRecipient",
    "SavedSearch",
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
