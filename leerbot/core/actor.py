"""Who is acting: the platform's facts about a person (Identity) and what the community
makes of them (Actor)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MemberRole(StrEnum):
    """How someone takes part. Optional: nobody has to say which they are."""

    EXPERT_BY_EXPERIENCE = "ervaringsdeskundige"
    PROFESSIONAL = "professional"


class Function(StrEnum):
    """Extra tasks in the community; a coordinator may do everything a moderator may."""

    MODERATOR = "moderator"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Identity:
    """What a front end knows about the person behind a command (never a decision)."""

    platform_id: str
    display_name: str
    locale_hint: str | None = None
    platform_role_ids: frozenset[str] = frozenset()
    is_platform_admin: bool = False
    granted_functions: frozenset[Function] = frozenset()
    """Functions the front end vouches for itself (the local console's `--role`)."""
    in_community: bool = True
    """False for a press in a direct message: no server nickname, so keep the stored name."""


@dataclass(frozen=True)
class Actor:
    """A member as the core sees them while they act."""

    member_id: int
    community_id: int
    platform_id: str
    display_name: str
    locale: str
    role: MemberRole | None = None
    functions: frozenset[Function] = field(default_factory=frozenset)
    site_id: int | None = None

    @property
    def is_coordinator(self) -> bool:
        return Function.COORDINATOR in self.functions

    @property
    def is_moderator(self) -> bool:
        return self.is_coordinator or Function.MODERATOR in self.functions


def system_actor(community_id: int, on_behalf_of: int | None = None) -> Actor:
    """The bot itself acting for a schedule a moderator set up (recurring rounds)."""
    return Actor(
        member_id=on_behalf_of or 0,
        community_id=community_id,
        platform_id="leerbot",
        display_name="leerbot",
        locale="nl",
        functions=frozenset({Function.COORDINATOR}),
    )
