"""Failures the community core reports.

A failure carries a message key (looked up in `prompts/`) and parameters, never a finished
sentence, so every front end can tell the member in their own language what to do instead.
"""

from __future__ import annotations

from typing import Any


class LeerbotError(Exception):
    """Base of all expected failures: bad input, missing rights, unknown things."""

    key: str = "errors.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class ValidationFailed(LeerbotError):
    """The input was not acceptable; nothing was changed."""

    key = "errors.invalid"


class NotFound(LeerbotError):
    """The thing asked for does not exist (in this community)."""

    key = "errors.not_found"


class PermissionDenied(LeerbotError):
    """The actor may not do this."""

    key = "errors.permission_denied"


class Conflict(LeerbotError):
    """The change clashes with what is already there (a duplicate name, say)."""

    key = "errors.conflict"
