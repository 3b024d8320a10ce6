"""The interaction layer shared by every front end: declared commands and neutral replies."""

from __future__ import annotations

from leerbot.chat.commands import Registry, registry


def load_all() -> Registry:
    """Import every command module so that the registry is complete."""
    from leerbot.chat import (  # noqa: F401
        agenda,
        community,
        help,
        practices,
        privacy,
        reflections,
        sessions,
    )

    if reflections.after_session_hook not in sessions.AFTER_SESSION_HOOKS:
        sessions.AFTER_SESSION_HOOKS.append(reflections.after_session_hook)

    return registry


def job_handlers() -> dict[str, object]:
    """Every capability's scheduled-work handlers, by job kind."""
    from leerbot.chat import agenda, practices, reflections, sessions

    return {**sessions.JOBS, **reflections.JOBS, **agenda.JOBS, **practices.JOBS}
