"""The gateway: one websocket per connection, sessions that outlive connections.

HELLO → (heartbeat ↔ ACK) → IDENTIFY → READY + one GUILD_CREATE per guild. A session keeps
every dispatch it was sent, numbered by ``s``, so that after a dropped connection a RESUME
replays what the client missed and then sends RESUMED — the events dispatched while the bot
was away are not lost. Dispatches are filtered by the intents the client identified with,
as Discord filters them. ``compress=zlib-stream`` gives one zlib stream per connection with
a Z_SYNC_FLUSH after every payload, sent as binary frames; otherwise JSON text frames.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from leerbot.testing.api import FakeDiscord

_log = logging.getLogger(__name__)

# Opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

# Intents.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
GUILD_SCHEDULED_EVENTS = 1 << 16
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# Close codes.
UNKNOWN_OPCODE, DECODE_ERROR, NOT_AUTHENTICATED, AUTHENTICATION_FAILED = 4001, 4002, 4003, 4004
ALREADY_AUTHENTICATED, INVALID_SEQ, INVALID_API_VERSION = 4005, 4007, 4012
INVALID_INTENTS, DISALLOWED_INTENTS = 4013, 4014

REPLAY_BUFFER = 10_000


@dataclass(eq=False)
class Connection:
    """One websocket; the zlib stream (if any) lives exactly as long as it does."""

    ws: web.WebSocketResponse
    compressor: Any = None  # zlib compress object, when compress=zlib-stream
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        async with self.lock:
            if self.ws.closed:
                return
            if self.compressor is not None:
                data = self.compressor.compress(text.encode()) + self.compressor.flush(
                    zlib.Z_SYNC_FLUSH
                )
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)


@dataclass(eq=False)
class Session:
    """A gateway session: survives a dropped connection so that it can be resumed."""

    id: str
    intents: int
    shard: tuple[int, int]
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    connection: Connection | None = None
    large_threshold: int = 250

    def wants(self, intent: int | None) -> bool:
        return intent is None or bool(self.intents & intent)


class Gateway:
    """The websocket endpoint and the sessions it serves."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_interval_ms = 41_250
        self.received: list[dict[str, Any]] = []

    # -- dispatch ------------------------------------------------------------------------

    async def dispatch(
        self,
        event: str,
        data: Any,
        *,
        intent: int | None = None,
        shape: Callable[[Session], Any] | None = None,
    ) -> None:
        """Send an event to every session that subscribed to ``intent``.

        A session without a live connection buffers it; RESUME replays it.
        ``shape`` lets the payload depend on the session (e.g. MESSAGE_CONTENT).
        """
        for session in list(self.sessions.values()):
            if not session.wants(intent):
                continue
            await self._send_dispatch(session, event, shape(session) if shape else data)

    async def _send_dispatch(self, session: Session, event: str, data: Any) -> None:
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(payload)
        if len(session.sent) > REPLAY_BUFFER:
            del session.sent[: len(session.sent) - REPLAY_BUFFER]
        if session.connection is not None:
            try:
                await session.connection.send(payload)
            except (ConnectionError, RuntimeError):
                session.connection = None

    # -- the websocket -------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        version = request.query.get("v")
        encoding = request.query.get("encoding", "json")
        compress = request.query.get("compress")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws)
        if compress == "zlib-stream":
            conn.compressor = zlib.compressobj()
        elif compress is not None:
            await ws.close(code=DECODE_ERROR, message=b"Unsupported compression")
            return ws
        if version != "10" or encoding != "json":
            await ws.close(code=INVALID_API_VERSION, message=b"Invalid API version")
            return ws
        self.connections.add(conn)
        session: Session | None = None
        try:
            await conn.send(
                {
                    "op": HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.BINARY:
                        await ws.close(code=DECODE_ERROR, message=b"Error while decoding payload")
                    break
                try:
                    payload = json.loads(msg.data)
                    op = payload["op"]
                except (ValueError, KeyError, TypeError):
                    await ws.close(code=DECODE_ERROR, message=b"Error while decoding payload")
                    break
                self.received.append(payload)
                session = await self._on_op(conn, session, op, payload.get("d"))
                if ws.closed:
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.connections.discard(conn)
            if session is not None and session.connection is conn:
                session.connection = None
            self.fake._changed()
        return ws

    async def _on_op(
        self, conn: Connection, session: Session | None, op: int, data: Any
    ) -> Session | None:
        if op == HEARTBEAT:
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            if session is not None:
                await conn.ws.close(code=ALREADY_AUTHENTICATED, message=b"Already authenticated")
                return session
            return await self._identify(conn, data or {})
        elif op == RESUME:
            return await self._resume(conn, data or {})
        elif op == REQUEST_MEMBERS:
            if session is None:
                await conn.ws.close(code=NOT_AUTHENTICATED, message=b"Not authenticated")
                return None
            await self._request_members(session, data or {})
        elif op in (PRESENCE, VOICE_STATE):
            if session is None:
                await conn.ws.close(code=NOT_AUTHENTICATED, message=b"Not authenticated")
        else:
            await conn.ws.close(code=UNKNOWN_OPCODE, message=b"Unknown opcode")
        return session

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> Session | None:
        fake = self.fake
        if data.get("token") not in (fake.token, f"Bot {fake.token}"):
            await conn.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return None
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents >= 1 << 26:
            await conn.ws.close(code=INVALID_INTENTS, message=b"Invalid intent(s).")
            return None
        if intents & PRIVILEGED & ~fake.privileged_intents:
            await conn.ws.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return None
        shard = tuple(data.get("shard") or (0, 1))
        self.identify_count += 1
        session = Session(
            secrets.token_hex(16),
            intents,
            (int(shard[0]), int(shard[1])),
            large_threshold=int(data.get("large_threshold") or 50),
        )
        session.connection = conn
        self.sessions[session.id] = session
        guilds = [
            g for g in fake.guilds.values() if (g.id >> 22) % session.shard[1] == session.shard[0]
        ]
        app = fake.application_id
        await self._send_dispatch(
            session,
            "READY",
            {
                "v": 10,
                "user": fake.bot_user.to_payload()
                | {"verified": True, "mfa_enabled": False, "bot": True, "email": None},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": fake.gateway_url,
                "shard": list(session.shard),
                "application": {"id": str(app), "flags": fake.application_flags},
                "private_channels": [],
                "presences": [],
                "relationships": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": ["rotterdam"],
                "auth": {},
                "user_settings": {},
                "_trace": ['["leerbot-fake-gateway"]'],
            },
        )
        full = intents & GUILD_MEMBERS and intents & GUILD_PRESENCES
        for guild in guilds:
            # Discord lists all members only with the members and presences intents and for
            # a guild that is not large; otherwise just the bot (clients then request chunks).
            small = len(guild.members) <= session.large_threshold
            members = (
                list(guild.members.values())
                if full and small
                else [m for m in guild.members.values() if m.user.id == fake.bot_user.id]
            )
            await self._send_dispatch(
                session,
                "GUILD_CREATE",
                guild.to_payload(members=members, large_threshold=session.large_threshold),
            )
        fake._changed()
        return session

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") not in (self.fake.token, f"Bot {self.fake.token}"):
            await conn.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return None
        seq = data.get("seq")
        if (
            session is None
            or not isinstance(seq, int)
            or seq > session.seq
            or (session.sent and seq < session.sent[0]["s"] - 1)
        ):
            # Discord: op 9 with d=false — the client must IDENTIFY anew.
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return None
        self.resume_count += 1
        old = session.connection
        session.connection = conn
        if old is not None and old is not conn and not old.ws.closed:
            await old.ws.close(code=4009, message=b"Session replaced")
        for payload in session.sent:
            if payload["s"] > seq:
                await conn.send(payload)
        # Discord sends a _trace object here (discord.py writes into it, so it must be one).
        await self._send_dispatch(session, "RESUMED", {"_trace": ["leerbot-fake-gateway"]})
        self.fake._changed()
        return session

    async def _request_members(self, session: Session, data: dict[str, Any]) -> None:
        guild = self.fake.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        if not session.intents & GUILD_MEMBERS and not data.get("user_ids"):
            await self._close(session, INVALID_INTENTS)
            return
        members = list(guild.members.values())
        query = data.get("query")
        if data.get("user_ids"):
            wanted = {int(u) for u in data["user_ids"]}
            members = [m for m in members if m.id in wanted]
        elif query:
            members = [m for m in members if m.user.username.lower().startswith(query.lower())]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        for index, chunk in enumerate(chunks):
            payload: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [m.to_payload() for m in chunk],
                "chunk_index": index,
                "chunk_count": len(chunks),
            }
            if data.get("nonce"):
                payload["nonce"] = data["nonce"]
            await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", payload)

    async def _close(self, session: Session, code: int) -> None:
        if session.connection is not None:
            await session.connection.ws.close(code=code)

    # -- faults --------------------------------------------------------------------------

    async def drop(self, code: int | None = None) -> int:
        """Kill every live connection; sessions stay resumable. Returns how many dropped.

        ``code=None`` aborts the TCP connection without a close frame (what a network fault
        looks like); an int sends that close code (e.g. 4000, "unknown error", resumable).
        """
        dropped = 0
        for conn in list(self.connections):
            for session in self.sessions.values():
                if session.connection is conn:
                    session.connection = None
            self.connections.discard(conn)
            dropped += 1
            if code is None:
                transport = conn.ws._req.transport if conn.ws._req is not None else None
                if transport is not None:
                    transport.abort()
            else:
                await conn.ws.close(code=code)
        return dropped

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close(code=1001, message=b"Server shutting down")
        self.connections.clear()
