"""Discord-style rate limits: per-route buckets keyed by major parameter, plus a global limit.

Fixed windows, as Discord's buckets behave from a client's point of view: the first request
opens a window of ``per`` seconds in which ``limit`` requests are allowed. The answers carry
Discord's headers so discord.py's own limiter sees what it would see in production, and a
429 carries the JSON body, ``Retry-After``, ``X-RateLimit-Scope`` and a ``Via`` header (discord.py
treats a 429 without ``Via`` as a Cloudflare ban and gives up).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

# Major parameters: a bucket is shared per value of the first of these in the path. A webhook
# with its token in the path counts as webhook_id + webhook_token (Discord's "Rate Limits":
# "webhooks (webhook_id or webhook_id + webhook_token)"): each interaction's follow-ups and
# `@original` have their own bucket, not one for every interaction of the application.
MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "interaction_id")


def major_parameter(params: dict[str, str]) -> str:
    """The value that keys a route's bucket (see MAJOR_PARAMETERS)."""
    for name in MAJOR_PARAMETERS:
        if name in params:
            if name == "webhook_id" and "webhook_token" in params:
                return f"{params[name]}+{params['webhook_token']}"
            return params[name]
    return ""


@dataclass
class Limit:
    """``limit`` requests per ``per`` seconds."""

    limit: int
    per: float


def default_route_limits() -> dict[str, Limit]:
    """Realistic defaults (as observed on Discord; the exact values vary per bot)."""
    return {
        "POST /channels/{channel_id}/messages": Limit(5, 5.0),
        "PATCH /channels/{channel_id}/messages/{message_id}": Limit(5, 5.0),
        "DELETE /channels/{channel_id}/messages/{message_id}": Limit(5, 1.0),
        "POST /users/@me/channels": Limit(10, 10.0),
        "POST /channels/{channel_id}/messages/{message_id}/threads": Limit(10, 10.0),
        "POST /channels/{channel_id}/threads": Limit(10, 10.0),
        "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}": Limit(10, 10.0),
        "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}": Limit(10, 10.0),
        "POST /guilds/{guild_id}/scheduled-events": Limit(5, 5.0),
        "PATCH /guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}": Limit(5, 5.0),
        "PUT /applications/{application_id}/commands": Limit(10, 20.0),
        "PUT /applications/{application_id}/guilds/{guild_id}/commands": Limit(10, 20.0),
        "POST /webhooks/{webhook_id}/{webhook_token}": Limit(5, 2.0),
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original": Limit(5, 2.0),
    }


# Interaction callbacks are not subject to the global limit (Discord documents this).
GLOBAL_EXEMPT = frozenset({"POST /interactions/{interaction_id}/{interaction_token}/callback"})


def global_exempt(route: str) -> bool:
    """Interaction endpoints are "not bound to the application's Global Rate Limit"
    (Discord, "Receiving and Responding"): the callback, and everything under the
    interaction's webhook and token (`@original`, follow-ups) — the only webhooks the fake
    models."""
    return route in GLOBAL_EXEMPT or "/webhooks/{webhook_id}/{webhook_token}" in route


@dataclass
class _Window:
    limit: int
    per: float
    opened: float = 0.0
    used: int = 0
    number: int = 1
    """How many windows this bucket has opened (the first, then one per reset)."""

    def roll(self, now: float) -> None:
        if now >= self.opened + self.per:
            self.opened, self.used = now, 0
            self.number += 1

    def reset_after(self, now: float) -> float:
        return max(0.0, self.opened + self.per - now)


@dataclass
class Decision:
    """What the limiter decided for one request: headers to send, or a 429."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False
    scope: str = "user"


@dataclass
class RateLimiter:
    """Per-route buckets and one global window; all limits can be changed at run time."""

    global_limit: Limit = field(default_factory=lambda: Limit(50, 1.0))
    default_limit: Limit = field(default_factory=lambda: Limit(50, 1.0))
    routes: dict[str, Limit] = field(default_factory=default_route_limits)
    served_429: list[tuple[str, str, bool]] = field(default_factory=list)
    _buckets: dict[tuple[str, str], _Window] = field(default_factory=dict)
    _global: _Window | None = None
    clock: object = time.monotonic
    """Seconds for the windows (a test may give a fixed one: only requests move it on)."""
    wall: object = time.time
    """The Unix time for `X-RateLimit-Reset` (a test may give a fixed one)."""

    def set_route(self, route: str, limit: int, per: float) -> None:
        """Change one route's bucket.

        Example: ``set_route("POST /channels/{channel_id}/messages", 2, 0.2)``.
        """
        self.routes[route] = Limit(limit, per)
        self._buckets = {k: v for k, v in self._buckets.items() if k[0] != route}

    def set_global(self, limit: int, per: float = 1.0) -> None:
        self.global_limit = Limit(limit, per)
        self._global = None

    def windows(self, route: str) -> int:
        """How many windows the buckets of `route` have opened: a client that waits for
        each reset fills `requests / limit` of them, without a 429."""
        return sum(w.number for (r, _), w in self._buckets.items() if r == route)

    def _now(self) -> float:
        return self.clock()  # type: ignore[operator]

    @staticmethod
    def bucket_hash(route: str) -> str:
        """A stable opaque id, like Discord's ``X-RateLimit-Bucket``."""
        return hashlib.sha1(route.encode()).hexdigest()[:16]

    def check(self, route: str, params: dict[str, str]) -> Decision:
        """Count one request to ``route`` (``"METHOD /template"``) and decide."""
        now = self._now()
        if not global_exempt(route):
            if self._global is None:
                self._global = _Window(self.global_limit.limit, self.global_limit.per, now)
            self._global.roll(now)
            if self._global.used >= self._global.limit:
                retry = self._global.reset_after(now)
                self.served_429.append((route, "global", True))
                return Decision(
                    False,
                    {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"},
                    retry,
                    True,
                    "global",
                )
        major = major_parameter(params)
        limit = self.routes.get(route, self.default_limit)
        key = (route, major)
        window = self._buckets.get(key)
        if window is None:
            window = self._buckets[key] = _Window(limit.limit, limit.per, now)
        window.roll(now)
        # Rounded up to the millisecond: a client that waits exactly this long finds the
        # window reset (rounded down it could come back half a millisecond early, a 429).
        reset_after = math.ceil(window.reset_after(now) * 1000) / 1000
        headers = {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Bucket": self.bucket_hash(route),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{self.wall() + reset_after:.3f}",  # type: ignore[operator]
        }
        if window.used >= window.limit:
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Scope"] = "user"
            self.served_429.append((route, major, False))
            return Decision(False, headers, reset_after, False, "user")
        window.used += 1
        if self._global is not None and not global_exempt(route):
            self._global.used += 1
        headers["X-RateLimit-Remaining"] = str(window.limit - window.used)
        return Decision(True, headers)

    @staticmethod
    def retry_after_header(seconds: float) -> str:
        """Discord's ``Retry-After`` header is whole seconds, rounded up."""
        return str(max(1, math.ceil(seconds)))
