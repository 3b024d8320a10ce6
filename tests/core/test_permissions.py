"""Every permission rule, written out independently of the rules table."""

from __future__ import annotations

import pytest

from leerbot.chat import load_all
from leerbot.core import agenda, practices, reflections, sessions
from leerbot.core.actor import Actor, Function
from leerbot.core.errors import PermissionDenied
from leerbot.core.permissions import RULES, Action, may, require

load_all()  # every capability registers its rules on import

MEMBER = Actor(1, 1, "m", "Member", "nl")
MODERATOR = Actor(2, 1, "mo", "Moderator", "nl", functions=frozenset({Function.MODERATOR}))
COORDINATOR = Actor(3, 1, "c", "Coordinator", "nl", functions=frozenset({Function.COORDINATOR}))

# Who may do what, as the product promises it (member, moderator, coordinator).
EXPECTED: dict[str, tuple[bool, bool, bool]] = {
    Action.VIEW_HELP: (True, True, True),
    Action.SETUP_COMMUNITY: (False, False, True),
    Action.ASSIGN_FUNCTIONS: (False, False, True),
    Action.VIEW_AUDIT: (False, False, True),
    Action.VIEW_SITES: (True, True, True),
    Action.MANAGE_SITES: (False, False, True),
    Action.VIEW_PROFILES: (True, True, True),
    Action.EDIT_OWN_PROFILE: (True, True, True),
    Action.MANAGE_OWN_DATA: (True, True, True),
    sessions.MANAGE_SESSIONS: (False, True, True),
    sessions.VIEW_SESSIONS: (True, True, True),
    sessions.JOIN_SESSIONS: (True, True, True),
    reflections.MANAGE_ROUNDS: (False, True, True),
    reflections.ANSWER_ROUNDS: (True, True, True),
    agenda.PROPOSE: (True, True, True),
    agenda.VIEW: (True, True, True),
    agenda.MANAGE: (False, False, True),
    agenda.EXPORT: (False, False, True),
    agenda.MODERATE: (False, True, True),
    practices.SHARE: (True, True, True),
    practices.VIEW: (True, True, True),
    practices.MANAGE: (False, False, True),
    practices.EXPORT: (False, False, True),
    practices.MODERATE: (False, True, True),
}


def test_every_rule_has_an_expectation() -> None:
    assert set(RULES) == set(EXPECTED), "add the new action to EXPECTED with who may do it"


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_rule(action: str) -> None:
    for actor, allowed in zip((MEMBER, MODERATOR, COORDINATOR), EXPECTED[action], strict=True):
        assert may(actor, action) is allowed, (action, actor.display_name)
        if allowed:
            require(actor, action)
        else:
            with pytest.raises(PermissionDenied):
                require(actor, action)


def test_unknown_action_is_refused_even_for_coordinators() -> None:
    assert not may(COORDINATOR, "something.made.up")
    with pytest.raises(PermissionDenied):
        require(COORDINATOR, "something.made.up")


def test_a_coordinator_counts_as_moderator() -> None:
    assert COORDINATOR.is_moderator and not MODERATOR.is_coordinator
