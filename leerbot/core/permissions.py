"""The one place that answers "may this actor do this?".

Every action a command can take is listed in `Action` with the lowest standing that may do
it. Adapters never decide; services call `require` before they change anything.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from leerbot.core.actor import Actor
from leerbot.core.errors import PermissionDenied


class Standing(IntEnum):
    MEMBER = 1
    MODERATOR = 2
    COORDINATOR = 3


class Action(StrEnum):
    VIEW_HELP = "help.view"
    SETUP_COMMUNITY = "community.setup"
    ASSIGN_FUNCTIONS = "community.assign_functions"
    VIEW_AUDIT = "community.view_audit"
    VIEW_SITES = "sites.view"
    MANAGE_SITES = "sites.manage"
    VIEW_PROFILES = "profile.view"
    EDIT_OWN_PROFILE = "profile.edit_own"
    MANAGE_OWN_DATA = "privacy.own_data"


RULES: dict[Action, Standing] = {
    Action.VIEW_HELP: Standing.MEMBER,
    Action.SETUP_COMMUNITY: Standing.COORDINATOR,
    Action.ASSIGN_FUNCTIONS: Standing.COORDINATOR,
    Action.VIEW_AUDIT: Standing.COORDINATOR,
    Action.VIEW_SITES: Standing.MEMBER,
    Action.MANAGE_SITES: Standing.COORDINATOR,
    Action.VIEW_PROFILES: Standing.MEMBER,
    Action.EDIT_OWN_PROFILE: Standing.MEMBER,
    Action.MANAGE_OWN_DATA: Standing.MEMBER,
}


def register_rule(action: str, standing: Standing) -> None:
    """Later capabilities add their actions here (before any command runs)."""
    RULES[action] = standing  # type: ignore[index]


def standing_of(actor: Actor) -> Standing:
    if actor.is_coordinator:
        return Standing.COORDINATOR
    if actor.is_moderator:
        return Standing.MODERATOR
    return Standing.MEMBER


def may(actor: Actor, action: str) -> bool:
    """True when `actor` may perform `action`. Unknown actions are refused."""
    needed = RULES.get(action)  # type: ignore[call-overload]
    return needed is not None and standing_of(actor) >= needed


def require(actor: Actor, action: str) -> None:
    """Raise PermissionDenied (with the standing needed) unless `actor` may do `action`."""
    if not may(actor, action):
        needed = RULES.get(action, Standing.COORDINATOR)  # type: ignore[call-overload]
        raise PermissionDenied("errors.permission_denied", needed=needed.name.lower())
