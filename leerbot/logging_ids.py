"""Who, in a log line, without naming anybody.

leerbot's log never holds a member's Discord id, database key or name: a log file kept after
a member deleted their data must name nobody. Where a line needs to say *who* (to follow one
person's refusals through a log), it uses `who(...)`: the first 8 hex digits of SHA-256 of
a random salt made when the process starts and the id. Within one run the same member always
gets the same pseudonym, so lines can be followed; the salt is never stored or logged, so
after the process ends nobody (not even with the database) can turn a pseudonym back into a
person. A database key and a Discord id of the same member give different pseudonyms.
"""

from __future__ import annotations

import hashlib
import secrets

_SALT = secrets.token_bytes(32)


def who(value: object) -> str:
    """A short pseudonym for a member's id (a Discord id or a database key) in a log line."""
    digest = hashlib.sha256(_SALT + str(value).encode("utf-8")).hexdigest()
    return f"~{digest[:8]}"
