"""Data rights (AVG/GDPR): every capability declares how to export and delete one member's
data, as Red-DiscordBot's cogs do with `red_get_data_for_user` / `red_delete_data_for_user`.

A capability registers a `DataHandler` naming the tables it covers; a test fails when a
table that refers to members has no handler. `/mijngegevens` asks every handler.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leerbot import clock, scheduling
from leerbot.core import audit
from leerbot.core.actor import Actor
from leerbot.core.permissions import Action, require
from leerbot.db.models import AuditEntry, Community, Member

Exporter = Callable[[AsyncSession, Member], Awaitable[dict[str, Any]]]
Deleter = Callable[[AsyncSession, Member], Awaitable[None]]
Counter = Callable[[AsyncSession, Member], Awaitable[dict[str, int]]]


@dataclass(frozen=True)
class DataHandler:
    """How one capability exports, counts and deletes one member's data.

    `summary_key` renders the counts for `/mijngegevens`; `delete_note_key`, if set, says
    what deleting does (e.g. "your agenda points stay, without your name").
    """

    name: str
    tables: tuple[str, ...]
    summary_key: str
    count: Counter
    export: Exporter
    delete: Deleter
    delete_note_key: str | None = None
    order: int = 100


_HANDLERS: dict[str, DataHandler] = {}


def register(handler: DataHandler) -> DataHandler:
    _HANDLERS[handler.name] = handler
    return handler


def handlers() -> list[DataHandler]:
    return sorted(_HANDLERS.values(), key=lambda h: (h.order, h.name))


def covered_tables() -> set[str]:
    return {table for h in _HANDLERS.values() for table in h.tables}


@dataclass(frozen=True)
class DataSummary:
    handler: str
    summary_key: str
    counts: dict[str, int]
    delete_note_key: str | None


async def summarize(db: AsyncSession, actor: Actor) -> list[DataSummary]:
    """What is held about the actor, capability by capability."""
    require(actor, Action.MANAGE_OWN_DATA)
    member = await _member(db, actor)
    return [
        DataSummary(h.name, h.summary_key, await h.count(db, member), h.delete_note_key)
        for h in handlers()
    ]


async def export(db: AsyncSession, actor: Actor) -> bytes:
    """Everything held about the actor, as a JSON document (UTF-8)."""
    require(actor, Action.MANAGE_OWN_DATA)
    member = await _member(db, actor)
    community = await db.get(Community, member.community_id)
    document: dict[str, Any] = {
        "leerbot_export": 1,
        "created_at": clock.now().isoformat(timespec="seconds"),
        "community": community.name if community else None,
        "member": member.display_name,
        "data": {h.name: await h.export(db, member) for h in handlers()},
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")


async def delete(db: AsyncSession, actor: Actor) -> None:
    """Delete everything held about the actor, then the member row itself.

    Afterwards no table holds their key, platform id, name or private texts: each handler
    removes or unlinks its rows (and schedules the cards that showed the name to be shown
    again without it); the audit trail keeps no row that points at them (see
    `audit.forget_member`), no scheduled job names them, and their key is never handed out
    again (AUTOINCREMENT on SQLite, sequences on PostgreSQL). What platforms keep outside
    the database (a cached DM channel) is for the front end: the chat reply says whom to
    forget.
    """
    require(actor, Action.MANAGE_OWN_DATA)
    member = await _member(db, actor)
    for handler in handlers():
        await handler.delete(db, member)
    await db.delete(member)
    await db.flush()


async def _member(db: AsyncSession, actor: Actor) -> Member:
    member = await db.get(Member, actor.member_id)
    assert member is not None, "actor without member row"
    return member


# --- the community core's own handler -----------------------------------------------------


async def _count_core(db: AsyncSession, member: Member) -> dict[str, int]:
    audit_count = await db.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.actor_id == member.id)
    )
    filled = sum(
        1
        for value in (member.role, member.site_id, member.locale, member.lived_experience)
        if value
    )
    return {"profile_fields": filled, "audit_entries": int(audit_count or 0)}


async def _export_core(db: AsyncSession, member: Member) -> dict[str, Any]:
    entries = await db.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == member.id).order_by(AuditEntry.id)
    )
    return {
        "profile": {
            "display_name": member.display_name,
            "platform_id": member.platform_id,
            "role": member.role,
            "site": member.site.name if member.site else None,
            "language": member.locale,
            "language_of_your_discord": member.platform_locale,
            "moderator": member.is_moderator,
            "coordinator": member.is_coordinator,
            "lived_experience": member.lived_experience,
            "share_lived_experience": member.share_lived_experience,
            "joined": member.created_at.isoformat(timespec="seconds"),
        },
        "actions_you_took": [
            {
                "when": e.created_at.isoformat(timespec="seconds"),
                "action": e.action,
                "target": f"{e.target_type}:{e.target_id}" if e.target_id else e.target_type,
            }
            for e in entries
        ],
    }


async def _delete_core(db: AsyncSession, member: Member) -> None:
    await audit.forget_member(db, member.id)
    await scheduling.forget_member(db, member.id)


register(
    DataHandler(
        name="profile",
        tables=("members", "audit_entries", "scheduled_jobs"),
        summary_key="privacy.summary.profile",
        count=_count_core,
        export=_export_core,
        delete=_delete_core,
        delete_note_key="privacy.delete_note.profile",
        order=0,
    )
)
