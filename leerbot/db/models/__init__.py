"""All models, imported here so that `Base.metadata` knows every table (Alembic needs it)."""

from sqlalchemy import Integer

from leerbot.db.models.agenda import AgendaItem, AgendaLink, AgendaStatusChange, AgendaSupport
from leerbot.db.models.base import Base, UTCDateTime, utcnow
from leerbot.db.models.community import AuditEntry, Community, Member, Organisation, Site
from leerbot.db.models.delivery import ChannelPost
from leerbot.db.models.practices import Practice, PracticeLink, PracticeRevision, SavedSearch
from leerbot.db.models.reflections import (
    AnonymousAnswer,
    NamedAnswer,
    ReflectionPause,
    ReflectionRound,
    ReflectionSchedule,
    RoundRecipient,
)
from leerbot.db.models.scheduling import RunningProcess, ScheduledJob, SchedulerLease
from leerbot.db.models.sessions import (
    ReminderDelivery,
    SessionAttendance,
    SessionOccurrence,
    SessionRole,
    SessionRsvp,
    SessionSeries,
)


def _never_reuse_keys() -> tuple[str, ...]:
    """SQLite hands out the highest key + 1 again once the row with the highest key is gone,
    so a deleted member's key (still in old audit rows, buttons, job payloads, a log) could
    be the next new member's. AUTOINCREMENT makes SQLite never reuse a key; PostgreSQL's
    sequences never do anyway. Every table with a single integer key of its own gets it
    (not a key that is a reference, like reflection_pauses.member_id). A migration that
    copies one of these tables on SQLite must keep it: `leerbot.db.migrate` refuses a schema
    where one lost it."""
    marked = []
    for table in Base.metadata.sorted_tables:
        key = list(table.primary_key.columns)
        if len(key) == 1 and isinstance(key[0].type, Integer) and not key[0].foreign_keys:
            table.dialect_options["sqlite"]["autoincrement"] = True
            marked.append(table.name)
    return tuple(marked)


AUTOINCREMENT_TABLES: tuple[str, ...] = _never_reuse_keys()
"""The tables whose keys SQLite must never hand out twice (see `_never_reuse_keys`)."""

__all__ = [
    "AUTOINCREMENT_TABLES",
    "AgendaItem",
    "AgendaLink",
    "AgendaStatusChange",
    "AgendaSupport",
    "AnonymousAnswer",
    "AuditEntry",
    "Base",
    "ChannelPost",
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
    "RunningProcess",
    "SavedSearch",
    "ScheduledJob",
    "SchedulerLease",
    "SessionAttendance",
    "SessionOccurrence",
    "SessionRole",
    "SessionRsvp",
    "SessionSeries",
    "Site",
    "UTCDateTime",
    "utcnow",
]
