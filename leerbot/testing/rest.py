"""The REST API: one pipeline for every request, then a handler per modelled route.

Pipeline: match the route in the OpenAPI document (unknown route → violation) → check the
bot token → validate path parameters → rate limit (429) → parse JSON or multipart
(``payload_json`` + ``files[n]``) → validate the body against the operation's schema and
the extra limits of :mod:`leerbot.testing.limits` (→ 400/50035 and a violation) → handler →
answer with Discord's headers and ``Content-Type: application/json`` exactly.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from leerbot.testing import limits, openapi
from leerbot.testing.openapi import SchemaError
from leerbot.testing.ratelimit import RateLimiter
from leerbot.testing.state import (
    CREATE_EVENTS,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    EPHEMERAL,
    GUILD_NEWS,
    GUILD_STAGE_VOICE,
    GUILD_TEXT,
    GUILD_VOICE,
    LOADING,
    MANAGE_EVENTS,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    MANAGE_THREADS,
    NEWS_THREAD,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Attachment,
    Channel,
    Command,
    Guild,
    Member,
    Message,
    ScheduledEvent,
    now_iso,
)

if TYPE_CHECKING:
    from leerbot.testing.api import FakeDiscord, InteractionRecord

_log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
JSON = "application/json"
# Flags a bot may set when sending (others are set by Discord itself and are dropped).
SETTABLE_FLAGS = (1 << 2) | EPHEMERAL | (1 << 12) | (1 << 15)
INTERACTION_TOKEN_LIFETIME = 15 * 60.0


class ApiError(Exception):
    """A Discord error answer: ``{"code": ..., "message": ...}`` with an HTTP status."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def invalid_form(errors: list[SchemaError]) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", openapi.errors_to_discord(errors))


@dataclass
class Upload:
    """One file of a multipart request."""

    field: str
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class Ctx:
    """Everything a handler needs about one request."""

    fake: FakeDiscord
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[Upload] = field(default_factory=list)

    def snowflake(self, name: str) -> int:
        return int(self.params[name])

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.query.get(name)
        if value is None:
            return default
        return value.lower() in ("1", "true", "yes")


Result = tuple[int, Any]
Handler = Callable[[Ctx], Awaitable[Result]]
Check = Callable[[Ctx], list[SchemaError]]


@dataclass(frozen=True)
class RouteSpec:
    handler: Handler
    check: Check | None = None


ROUTES: dict[str, RouteSpec] = {}


def route(
    method: str,
    template: str,
    check: Check | None = None,
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[f"{method} {template}"] = RouteSpec(handler, check)
        return handler

    return register


@dataclass
class Violation:
    """A request the live API would have refused as malformed (or the fake cannot serve)."""

    kind: str  # "route", "schema", "limit", "auth", "unmodelled", "response"
    method: str
    path: str
    operation: str
    errors: list[str]
    body: Any = None

    def __str__(self) -> str:
        detail = "; ".join(self.errors)
        return f"[{self.kind}] {self.method} {self.path} ({self.operation}): {detail}"


@dataclass
class Fault:
    """A failure the fake plays for one route, as a real outage looks to the bot: Discord
    answers `status` (a 5xx), or with `status=None` the connection drops without an answer.
    Before the request is carried out, or `after` it (the request took effect; its answer
    is lost: the case a nonce is for). `when` picks requests (by their `Ctx`); `action` runs
    at that moment (a benchmark kills the bot there). Played `times` times, then gone."""

    route: str
    status: int | None = 503
    after: bool = False
    times: int = 1
    when: Callable[[Ctx], bool] | None = None
    action: Callable[[], object] | None = None
    played: int = 0


@dataclass
class RequestRecord:
    """What the bot sent and what it got, for assertions and debugging."""

    method: str
    path: str
    route: str | None
    body: Any
    status: int = 0
    response: Any = None
    files: list[Upload] = field(default_factory=list)


class RestApi:
    """The aiohttp handler and the shared request pipeline."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.limiter = RateLimiter()
        self.faults: list[Fault] = []
        """Failures to play (see `Fault`); `fail(...)` adds one."""

    def fail(self, route: str, **options: Any) -> Fault:
        """Play a `Fault` on `route` ("POST /channels/{channel_id}/messages")."""
        fault = Fault(route, **options)
        self.faults.append(fault)
        return fault

    def _fault(self, route_key: str, ctx: Ctx, after: bool) -> Fault | None:
        for fault in self.faults:
            if fault.route != route_key or fault.after != after or fault.played >= fault.times:
                continue
            if fault.when is not None and not fault.when(ctx):
                continue
            fault.played += 1
            if fault.action is not None:
                fault.action()
            return fault
        return None

    def _play(self, fault: Fault, request: web.Request, record: RequestRecord) -> web.Response:
        self.fake._changed()
        if fault.status is None:
            record.status = 0  # no answer at all
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never arrives: the connection is gone
        record.status = fault.status
        body = {"message": "Service Unavailable (a fault played by the fake)", "code": 0}
        return self._respond(fault.status, body)

    def _respond(
        self,
        status: int,
        data: Any,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        headers = dict(headers or {})
        # Discord's answers pass through Google's load balancer; discord.py relies on it.
        headers.setdefault("Via", "1.1 google")
        if status == 204 or data is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        response = web.Response(status=status, text=text, headers=headers)
        response.content_type = JSON  # exactly; no charset, or discord.py won't parse it
        response.charset = None
        return response

    def _violate(
        self,
        kind: str,
        ctx_method: str,
        path: str,
        operation: str,
        errors: list[str],
        body: Any = None,
    ) -> None:
        violation = Violation(kind, ctx_method, path, operation, errors, body)
        _log.warning("fake discord: %s", violation)
        self.fake.violations.append(violation)
        self.fake._changed()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        method = request.method
        path = "/" + request.match_info["tail"]
        record = RequestRecord(method, path, None, None)
        fake.requests.append(record)
        found = openapi.match(method, path)
        if found is None:
            self._violate(
                "route",
                method,
                path,
                "-",
                [f"{method} {path} is not in Discord's OpenAPI document"],
            )
            record.status = 404
            return self._respond(404, {"message": "404: Not Found", "code": 0})
        op, params = found
        route_key = f"{method} {op.template}"
        record.route = route_key

        auth = request.headers.get("Authorization")
        if (op.needs_bot_token or auth is not None) and auth != f"Bot {fake.token}":
            record.status = 401
            if "Authorization" not in request.headers:
                self._violate(
                    "auth", method, path, op.operation_id, ["request without Authorization header"]
                )
            return self._respond(401, {"message": "401: Unauthorized", "code": 0})

        path_errors = openapi.validate_path_params(op, params)
        if path_errors:
            self._violate("schema", method, path, op.operation_id, [str(e) for e in path_errors])
            record.status = 400
            return self._respond(400, invalid_form(path_errors).body())

        decision = self.limiter.check(route_key, params)
        if not decision.allowed:
            fake._changed()
            record.status = 429
            headers = dict(decision.headers)
            headers["Retry-After"] = self.limiter.retry_after_header(decision.retry_after)
            return self._respond(
                429,
                {
                    "message": "You are being rate limited.",
                    "retry_after": round(decision.retry_after, 3),
                    "global": decision.is_global,
                    "code": 0,
                },
                headers,
            )

        try:
            body, files = await self._read_body(request, op)
        except ApiError as exc:
            self._violate("schema", method, path, op.operation_id, [exc.message])
            record.status = exc.status
            return self._respond(exc.status, exc.body(), decision.headers)
        record.body, record.files = body, files
        query = {k: v for k, v in request.query.items()}
        ctx = Ctx(fake, method, path, params, query, body, files)

        errors = self._validate_body(op, body, request.content_type)
        kind = "schema"
        spec = ROUTES.get(route_key)
        if not errors and spec is not None and spec.check is not None and body is not None:
            errors = spec.check(ctx)
            kind = "limit"
        if errors:
            self._violate(kind, method, path, op.operation_id, [str(e) for e in errors], body)
            record.status = 400
            return self._respond(400, invalid_form(errors).body(), decision.headers)

        fault = self._fault(route_key, ctx, after=False)
        if fault is not None:
            return self._play(fault, request, record)

        if spec is None:
            self._violate(
                "unmodelled",
                method,
                path,
                op.operation_id,
                [f"the fake does not model {route_key}; add it to leerbot.testing.rest"],
            )
            record.status = 501
            return self._respond(501, {"message": "Not modelled by the fake", "code": 0})

        try:
            status, data = await spec.handler(ctx)
        except ApiError as exc:
            if exc.code == 50035:
                self._violate(
                    "schema",
                    method,
                    path,
                    op.operation_id,
                    [json.dumps(exc.errors, ensure_ascii=False)],
                    body,
                )
            record.status, record.response = exc.status, exc.body()
            fake._changed()
            return self._respond(exc.status, exc.body(), decision.headers)

        record.status, record.response = status, data
        fault = self._fault(route_key, ctx, after=True)
        if fault is not None:
            return self._play(fault, request, record)
        if fake.validate_responses and data is not None:
            pointer = op.response_schema_pointer(status)
            problems = (
                openapi.validate(pointer, data)
                if pointer
                else [SchemaError((), "NO_SCHEMA", f"no JSON response schema for status {status}")]
            )
            if problems:
                self._violate(
                    "response", method, path, op.operation_id, [str(p) for p in problems], data
                )
        fake._changed()
        return self._respond(status, data, decision.headers)

    async def _read_body(
        self,
        request: web.Request,
        op: openapi.Operation,
    ) -> tuple[Any, list[Upload]]:
        if not request.can_read_body:
            if op.body_required:
                raise ApiError(400, 50035, "Invalid Form Body: request body is required")
            return None, []
        ctype = request.content_type
        if ctype == JSON:
            raw = await request.read()
            try:
                return json.loads(raw), []
            except ValueError as exc:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc
        if ctype == "multipart/form-data":
            if not op.accepts("multipart/form-data"):
                raise ApiError(400, 50035, f"{op.operation_id} does not accept multipart bodies")
            body: Any = None
            files: list[Upload] = []
            reader = await request.multipart()
            async for part in reader:
                name = getattr(part, "name", None) or ""
                data = await part.read()  # type: ignore[union-attr]
                if name == "payload_json":
                    try:
                        body = json.loads(data)
                    except ValueError as exc:
                        raise ApiError(
                            400, 50109, "The request body contains invalid JSON."
                        ) from exc
                elif name.startswith("files[") or name == "file":
                    files.append(
                        Upload(
                            name,
                            getattr(part, "filename", None) or name,
                            bytes(data),
                            part.headers.get("Content-Type"),
                        )
                    )
                else:
                    raise ApiError(400, 50035, f"unexpected multipart field {name!r}")
            return body, files
        raw = await request.read()
        if not raw:
            return None, []
        raise ApiError(400, 50035, f"unsupported Content-Type {ctype!r}")

    @staticmethod
    def _validate_body(op: openapi.Operation, body: Any, content_type: str) -> list[SchemaError]:
        if body is None:
            return []
        pointer = op.request_schema_pointer(JSON) or op.request_schema_pointer(content_type)
        if pointer is None:
            return [SchemaError((), "BASE_TYPE_INVALID", "this route takes no request body")]
        return openapi.validate(pointer, body)


# -- helpers ------------------------------------------------------------------------------


def _guild(ctx: Ctx) -> Guild:
    guild = ctx.fake.guilds.get(ctx.snowflake("guild_id"))
    if guild is None:
        raise ApiError(404, 10004, "Unknown Guild")
    return guild


def _channel(ctx: Ctx, name: str = "channel_id") -> Channel:
    channel = ctx.fake.channels.get(ctx.snowflake(name))
    if channel is None:
        raise ApiError(404, 10003, "Unknown Channel")
    return channel


def _member(guild: Guild, user_id: int) -> Member:
    member = guild.members.get(user_id)
    if member is None:
        raise ApiError(404, 10007, "Unknown Member")
    return member


def _bot_member(ctx: Ctx, guild: Guild) -> Member:
    return guild.members[ctx.fake.bot_user.id]


def _require(ctx: Ctx, guild: Guild, *permissions: int) -> None:
    """403 50013 unless the bot has one of ``permissions`` in the guild."""
    bot = _bot_member(ctx, guild)
    if not any(bot.has(p) for p in permissions):
        raise ApiError(403, 50013, "Missing Permissions")


def _message_check(ctx: Ctx) -> list[SchemaError]:
    return limits.message_errors(ctx.body) if isinstance(ctx.body, dict) else []


def _normalise_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Discord numbers every component (``id``) in tree order when the bot did not."""
    counter = [0]

    def visit(component: dict[str, Any]) -> dict[str, Any]:
        counter[0] += 1
        out = dict(component)
        out.setdefault("id", counter[0])
        if isinstance(out.get("components"), list):
            out["components"] = [visit(c) for c in out["components"]]
        for key in ("accessory", "component"):
            if isinstance(out.get(key), dict):
                out[key] = visit(out[key])
        return out

    return [visit(c) for c in components]


def _normalise_embed(embed: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in embed.items() if v is not None}
    out.setdefault("type", "rich")
    return out


def apply_message_fields(
    ctx: Ctx, message: Message, body: dict[str, Any], *, creating: bool
) -> None:
    """Content, embeds, components, files, flags and mentions from a create/edit body."""
    fake = ctx.fake
    if "content" in body:
        message.content = body["content"] or ""
    if "embeds" in body:
        message.embeds = [_normalise_embed(e) for e in body["embeds"] or []]
    elif creating and "embed" in body and body["embed"]:
        message.embeds = [_normalise_embed(body["embed"])]
    if "components" in body:
        message.components = _normalise_components(body["components"] or [])
    if "allowed_mentions" in body:
        message.allowed_mentions = body["allowed_mentions"]
    if "flags" in body and body["flags"] is not None:
        keep = message.flags & ~SETTABLE_FLAGS
        wanted = int(body["flags"]) & SETTABLE_FLAGS
        if not creating:
            wanted = (wanted & ~EPHEMERAL) | (message.flags & EPHEMERAL)
        message.flags = keep | wanted
    if creating:
        message.tts = bool(body.get("tts"))
        message.nonce = body.get("nonce")
        ref = body.get("message_reference")
        if ref:
            message.message_reference = {
                "type": 0,
                "channel_id": str(message.channel.id),
                **{
                    k: str(v)
                    for k, v in ref.items()
                    if k in ("message_id", "channel_id", "guild_id")
                },
            }
            message.type = 19
    # Attachments: the body lists which existing ones to keep and describes new uploads.
    described = {str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)}
    if "attachments" in body and not creating:
        keep_ids = {
            k for k in described if k.isdigit() and int(k) in {a.id for a in message.attachments}
        }
        message.attachments = [a for a in message.attachments if str(a.id) in keep_ids]
    for index, upload in enumerate(ctx.files):
        meta = described.get(str(index), {})
        attachment_id = fake.ids.next()
        filename = meta.get("filename") or upload.filename
        message.attachments.append(
            Attachment(
                attachment_id,
                filename,
                upload.data,
                f"{fake.base_url}/attachments/{message.channel.id}/{attachment_id}/{filename}",
                upload.content_type,
                meta.get("description"),
            )
        )


def _require_not_empty(message: Message) -> None:
    if not (message.content or message.embeds or message.attachments or message.components):
        raise ApiError(400, 50006, "Cannot send an empty message")


async def _dispatch_message(ctx: Ctx, event: str, message: Message) -> None:
    if message.ephemeral:
        return
    await ctx.fake._dispatch_message(event, message)


def _get_message(channel: Channel, message_id: int) -> Message:
    for message in channel.messages:
        if message.id == message_id and not message.deleted:
            return message
    raise ApiError(404, 10008, "Unknown Message")


# -- login, gateway ----------------------------------------------------------------------


@route("GET", "/users/@me")
async def get_me(ctx: Ctx) -> Result:
    payload = ctx.fake.bot_user.to_payload() | {
        "bot": True,
        "verified": True,
        "mfa_enabled": False,
        "email": None,
        "locale": "en-US",
        "premium_type": 0,
    }
    return 200, payload


@route("GET", "/oauth2/applications/@me")
async def get_application(ctx: Ctx) -> Result:
    return 200, ctx.fake.application_payload()


@route("GET", "/gateway/bot")
async def get_gateway_bot(ctx: Ctx) -> Result:
    return 200, {
        "url": ctx.fake.gateway_url,
        "shards": 1,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 86_400_000,
            "max_concurrency": 1,
        },
    }


@route("GET", "/gateway")
async def get_gateway(ctx: Ctx) -> Result:
    return 200, {"url": ctx.fake.gateway_url}


@route("GET", "/users/{user_id}")
async def get_user(ctx: Ctx) -> Result:
    user = ctx.fake.users.get(ctx.snowflake("user_id"))
    if user is None:
        raise ApiError(404, 10013, "Unknown User")
    return 200, user.to_payload()


# -- application commands ----------------------------------------------------------------


def _commands_check(ctx: Ctx) -> list[SchemaError]:
    return limits.command_list_errors(ctx.body) if isinstance(ctx.body, list) else []


def _command_check(ctx: Ctx) -> list[SchemaError]:
    return limits.command_errors(ctx.body) if isinstance(ctx.body, dict) else []


def _app(ctx: Ctx) -> None:
    if ctx.snowflake("application_id") != ctx.fake.application_id:
        raise ApiError(403, 50001, "Missing Access")


def _scope(ctx: Ctx) -> int | None:
    if "guild_id" in ctx.params:
        _guild(ctx)
        return ctx.snowflake("guild_id")
    return None


def _overwrite(ctx: Ctx, guild_id: int | None) -> list[Command]:
    fake = ctx.fake
    old = {(c.type, c.name): c for c in fake.commands.get(guild_id, [])}
    new: list[Command] = []
    for data in ctx.body or []:
        key = (int(data.get("type") or 1), data["name"])
        existing = old.get(key)
        command_id = existing.id if existing else fake.ids.next()
        new.append(Command(command_id, fake.application_id, guild_id, fake.ids.next(), dict(data)))
    fake.commands[guild_id] = new
    fake.sync_count += 1
    return new


@route("PUT", "/applications/{application_id}/commands", _commands_check)
@route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", _commands_check)
async def put_commands(ctx: Ctx) -> Result:
    _app(ctx)
    return 200, [c.to_payload() for c in _overwrite(ctx, _scope(ctx))]


@route("GET", "/applications/{application_id}/commands")
@route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
async def get_commands(ctx: Ctx) -> Result:
    _app(ctx)
    return 200, [c.to_payload() for c in ctx.fake.commands.get(_scope(ctx), [])]


@route("POST", "/applications/{application_id}/commands", _command_check)
@route("POST", "/applications/{application_id}/guilds/{guild_id}/commands", _command_check)
async def post_command(ctx: Ctx) -> Result:
    _app(ctx)
    scope = _scope(ctx)
    fake = ctx.fake
    current = fake.commands.setdefault(scope, [])
    key = (int(ctx.body.get("type") or 1), ctx.body["name"])
    for i, cmd in enumerate(current):
        if (cmd.type, cmd.name) == key:
            current[i] = Command(cmd.id, fake.application_id, scope, fake.ids.next(), ctx.body)
            return 200, current[i].to_payload()
    cmd = Command(fake.ids.next(), fake.application_id, scope, fake.ids.next(), ctx.body)
    current.append(cmd)
    return 201, cmd.to_payload()


def _find_command(ctx: Ctx) -> tuple[list[Command], int]:
    commands = ctx.fake.commands.get(_scope(ctx), [])
    wanted = ctx.snowflake("command_id")
    for i, cmd in enumerate(commands):
        if cmd.id == wanted:
            return commands, i
    raise ApiError(404, 10063, "Unknown application command")


@route("GET", "/applications/{application_id}/commands/{command_id}")
@route("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
async def get_command(ctx: Ctx) -> Result:
    _app(ctx)
    commands, i = _find_command(ctx)
    return 200, commands[i].to_payload()


@route("DELETE", "/applications/{application_id}/commands/{command_id}")
@route("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
async def delete_command(ctx: Ctx) -> Result:
    _app(ctx)
    commands, i = _find_command(ctx)
    del commands[i]
    return 204, None


# -- interactions ------------------------------------------------------------------------


def _callback_check(ctx: Ctx) -> list[SchemaError]:
    body = ctx.body
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return []
    if body.get("type") in (4, 7):
        return limits.message_errors(body["data"], ("data",))
    if body.get("type") == 9:
        return limits.modal_errors(body["data"], ("data",))
    return []


# Which callback types each interaction type allows (Discord's documented matrix).
ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


def _interaction(ctx: Ctx, id_param: str, token_param: str) -> InteractionRecord:
    rec = ctx.fake.interactions.get(ctx.snowflake(id_param))
    if rec is None or rec.token != ctx.params[token_param]:
        raise ApiError(404, 10062, "Unknown interaction")
    return rec


@route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", _callback_check)
async def interaction_callback(ctx: Ctx) -> Result:
    fake = ctx.fake
    rec = _interaction(ctx, "interaction_id", "interaction_token")
    if rec.response_type is not None:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if time.monotonic() - rec.created > fake.interaction_response_timeout:
        rec.expired = True
        fake._changed()
        raise ApiError(404, 10062, "Unknown interaction")
    kind = int(ctx.body["type"])
    allowed = set(ALLOWED_CALLBACKS.get(rec.type, set()))
    if rec.type == 5 and (rec.parent is None or rec.parent.type != 3):
        allowed -= {6, 7}  # update-message only for modals opened from a component
    if kind not in allowed:
        raise invalid_form(
            [
                SchemaError(
                    ("type",),
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    f"Interaction response type {kind} is not valid for "
                    f"interaction type {rec.type}",
                )
            ]
        )
    data = ctx.body.get("data") or {}
    message: Message | None = None
    if kind in (4, 5):
        message = fake._new_interaction_message(rec)
        if kind == 5:
            message.flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
        else:
            apply_message_fields(ctx, message, data, creating=True)
            _require_not_empty(message)
        rec.original = message
        fake._store_message(message)
        await _dispatch_message(ctx, "MESSAGE_CREATE", message)
    elif kind == 7:
        message = rec.component_message
        assert message is not None
        apply_message_fields(ctx, message, data, creating=False)
        message.edited_timestamp = now_iso()
        rec.original = message
        await _dispatch_message(ctx, "MESSAGE_UPDATE", message)
    elif kind == 6:
        rec.original = rec.component_message
    elif kind == 9:
        rec.modal = fake._new_modal(rec, data)
    rec.response_type = kind
    rec.responded_at = time.monotonic()
    fake._changed()
    if not ctx.flag("with_response"):
        return 204, None
    interaction: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
    result: dict[str, Any] = {"interaction": interaction}
    if message is not None:
        interaction.update(
            {
                "response_message_id": str(message.id),
                "response_message_loading": bool(message.flags & LOADING),
                "response_message_ephemeral": message.ephemeral,
            }
        )
        if kind in (4, 7):
            # The document defines a resource only for these (and 12, activities).
            result["resource"] = {"type": kind, "message": fake._message_payload(message)}
    return 200, result


def _webhook_interaction(ctx: Ctx) -> InteractionRecord:
    fake = ctx.fake
    rec = fake.interactions_by_token.get(ctx.params["webhook_token"])
    if (
        rec is None
        or ctx.snowflake("webhook_id") != fake.application_id
        or (time.monotonic() - rec.created > INTERACTION_TOKEN_LIFETIME)
    ):
        raise ApiError(404, 10015, "Unknown Webhook")
    return rec


def _original(rec: InteractionRecord) -> Message:
    if rec.original is None or rec.original.deleted:
        raise ApiError(404, 10008, "Unknown Message")
    return rec.original


@route("POST", "/webhooks/{webhook_id}/{webhook_token}", _message_check)
async def execute_followup(ctx: Ctx) -> Result:
    fake = ctx.fake
    rec = _webhook_interaction(ctx)
    if rec.response_type is None:
        raise ApiError(404, 10015, "Unknown Webhook")
    body = ctx.body or {}
    original = rec.original
    if original is not None and original.flags & LOADING and not original.deleted:
        # Discord: the first follow-up after a "thinking" defer replaces the loading message.
        message = original
        message.flags &= ~LOADING
        apply_message_fields(
            ctx, message, {k: v for k, v in body.items() if k != "flags"}, creating=False
        )
        _require_not_empty(message)
        message.edited_timestamp = None
        await _dispatch_message(ctx, "MESSAGE_UPDATE", message)
    else:
        message = fake._new_interaction_message(rec)
        apply_message_fields(ctx, message, body, creating=True)
        _require_not_empty(message)
        fake._store_message(message)
        await _dispatch_message(ctx, "MESSAGE_CREATE", message)
    rec.followups.append(message)
    fake._changed()
    if not ctx.flag("wait"):
        return 204, None
    return 200, fake._message_payload(message)


def _webhook_message(ctx: Ctx, rec: InteractionRecord) -> Message:
    if "message_id" not in ctx.params:
        return _original(rec)
    wanted = ctx.snowflake("message_id")
    for message in [rec.original, *rec.followups]:
        if message is not None and message.id == wanted and not message.deleted:
            return message
    raise ApiError(404, 10008, "Unknown Message")


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def get_webhook_message(ctx: Ctx) -> Result:
    rec = _webhook_interaction(ctx)
    return 200, ctx.fake._message_payload(_webhook_message(ctx, rec))


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", _message_check)
@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", _message_check)
async def edit_webhook_message(ctx: Ctx) -> Result:
    rec = _webhook_interaction(ctx)
    message = _webhook_message(ctx, rec)
    message.flags &= ~LOADING
    apply_message_fields(ctx, message, ctx.body or {}, creating=False)
    _require_not_empty(message)
    message.edited_timestamp = now_iso()
    rec.edits += 1
    await _dispatch_message(ctx, "MESSAGE_UPDATE", message)
    ctx.fake._changed()
    return 200, ctx.fake._message_payload(message)


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def delete_webhook_message(ctx: Ctx) -> Result:
    rec = _webhook_interaction(ctx)
    message = _webhook_message(ctx, rec)
    await ctx.fake._delete_message(message)
    return 204, None


# -- channels and messages ---------------------------------------------------------------


@route("GET", "/channels/{channel_id}")
async def get_channel(ctx: Ctx) -> Result:
    return 200, _channel(ctx).to_payload()


@route("POST", "/channels/{channel_id}/messages", _message_check)
async def create_message(ctx: Ctx) -> Result:
    fake = ctx.fake
    channel = _channel(ctx)
    if channel.is_dm:
        recipient = channel.recipients[0]
        shares_guild = any(recipient.id in g.members for g in fake.guilds.values())
        if not recipient.dms_open or not shares_guild:
            raise ApiError(403, 50007, "Cannot send messages to this user")
    else:
        assert channel.guild is not None
        _require(
            ctx, channel.guild, SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
        )
        if channel.is_thread and channel.archived:
            raise ApiError(400, 50083, "Thread is archived")
    body = ctx.body or {}
    if int(body.get("flags") or 0) & EPHEMERAL:
        raise invalid_form(
            [
                SchemaError(
                    ("flags",),
                    "MESSAGE_FLAGS_INVALID",
                    "Only interaction responses can be ephemeral",
                )
            ]
        )
    nonce = body.get("nonce")
    key = (channel.id, fake.bot_user.id, str(nonce))
    if nonce is not None and body.get("enforce_nonce"):
        # As Discord: with enforce_nonce, a nonce seen from the same author in this channel
        # within the window returns that message, and no second one is created.
        seen = fake._nonces.get(key)
        if seen is not None and fake.clock() - seen[1] <= fake.nonce_window:
            if not seen[0].deleted:
                return 200, fake._message_payload(seen[0])
    message = Message(fake.ids.next(), channel, fake.bot_user)
    apply_message_fields(ctx, message, body, creating=True)
    _require_not_empty(message)
    fake._store_message(message)
    if nonce is not None:
        fake._nonces[key] = (message, fake.clock())
    await _dispatch_message(ctx, "MESSAGE_CREATE", message)
    return 200, fake._message_payload(message)


def _history_payload(ctx: Ctx, message: Message) -> dict[str, Any]:
    """A message as Discord returns it when read back: the nonce was only for the answer
    to its creation (and the gateway event), Discord does not keep it."""
    payload = ctx.fake._message_payload(message)
    payload.pop("nonce", None)
    return payload


@route("GET", "/channels/{channel_id}/messages")
async def list_messages(ctx: Ctx) -> Result:
    channel = _channel(ctx)
    limit = int(ctx.query.get("limit", 50))
    if not 1 <= limit <= 100:
        raise invalid_form(
            [SchemaError(("limit",), "NUMBER_TYPE_MAX", "int value should be between 1 and 100.")]
        )
    if channel.guild is not None:
        _require(ctx, channel.guild, VIEW_CHANNEL)
        if not _bot_member(ctx, channel.guild).has(READ_MESSAGE_HISTORY):
            return 200, []  # as Discord: without Read Message History, no messages at all
    live = [m for m in channel.messages if not m.deleted]
    if "before" in ctx.query:
        live = [m for m in live if m.id < int(ctx.query["before"])]
    if "after" in ctx.query:
        live = [m for m in live if m.id > int(ctx.query["after"])]
        newest_first = sorted(live, key=lambda m: m.id)[:limit][::-1]
        return 200, [_history_payload(ctx, m) for m in newest_first]
    newest_first = sorted(live, key=lambda m: m.id, reverse=True)[:limit]
    return 200, [_history_payload(ctx, m) for m in newest_first]


@route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(ctx: Ctx) -> Result:
    channel = _channel(ctx)
    if channel.guild is not None:
        _require(ctx, channel.guild, READ_MESSAGE_HISTORY)
    message = _get_message(channel, ctx.snowflake("message_id"))
    return 200, _history_payload(ctx, message)


@route("PATCH", "/channels/{channel_id}/messages/{message_id}", _message_check)
async def edit_message(ctx: Ctx) -> Result:
    message = _get_message(_channel(ctx), ctx.snowflake("message_id"))
    if message.author.id != ctx.fake.bot_user.id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    apply_message_fields(ctx, message, ctx.body or {}, creating=False)
    _require_not_empty(message)
    message.edited_timestamp = now_iso()
    await _dispatch_message(ctx, "MESSAGE_UPDATE", message)
    return 200, ctx.fake._message_payload(message)


@route("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(ctx: Ctx) -> Result:
    channel = _channel(ctx)
    message = _get_message(channel, ctx.snowflake("message_id"))
    if message.author.id != ctx.fake.bot_user.id:
        if channel.guild is None:
            raise ApiError(403, 50003, "Cannot execute action on a DM channel")
        _require(ctx, channel.guild, MANAGE_MESSAGES)
    await ctx.fake._delete_message(message)
    return 204, None


@route("POST", "/users/@me/channels")
async def create_dm(ctx: Ctx) -> Result:
    fake = ctx.fake
    recipient_id = (ctx.body or {}).get("recipient_id")
    user = fake.users.get(int(recipient_id)) if recipient_id is not None else None
    if user is None:
        raise ApiError(400, 50033, "Invalid Recipient(s)")
    return 200, fake.dm_channel(user).to_payload()


# -- threads -----------------------------------------------------------------------------


def _new_thread(ctx: Ctx, parent: Channel, thread_id: int, kind: int) -> Channel:
    fake = ctx.fake
    body = ctx.body or {}
    thread = Channel(
        thread_id,
        kind,
        body["name"],
        parent.guild,
        parent_id=parent.id,
        owner_id=fake.bot_user.id,
        auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
        invitable=bool(body.get("invitable", True)),
    )
    thread.thread_members[fake.bot_user.id] = now_iso()
    fake._add_channel(thread)
    return thread


async def _announce_thread(ctx: Ctx, thread: Channel) -> None:
    fake = ctx.fake
    payload = thread.to_payload() | {
        "newly_created": True,
        "member": thread.thread_member_payload(fake.bot_user.id),
    }
    await fake._dispatch("THREAD_CREATE", payload, intent=1)


@route("PATCH", "/channels/{channel_id}")
async def modify_thread(ctx: Ctx) -> Result:
    """Rename (or archive) a thread. As Discord: the thread's owner may rename it, anyone
    else needs Manage Threads; other channel kinds are out of this fake's scope."""
    thread = _channel(ctx)
    if thread.type not in (PUBLIC_THREAD, PRIVATE_THREAD, NEWS_THREAD) or thread.guild is None:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    if thread.owner_id != ctx.fake.bot_user.id:
        _require(ctx, thread.guild, MANAGE_THREADS)
    body = ctx.body or {}
    if "name" in body:
        name = str(body["name"] or "")
        if not 1 <= len(name) <= 100:
            raise invalid_form(
                [
                    SchemaError(
                        ("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                    )
                ]
            )
        thread.name = name
    await ctx.fake._dispatch("THREAD_UPDATE", thread.to_payload(), intent=1)
    return 200, thread.to_payload()


@route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
async def start_thread_from_message(ctx: Ctx) -> Result:
    parent = _channel(ctx)
    if parent.type not in (GUILD_TEXT, GUILD_NEWS) or parent.guild is None:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    message = _get_message(parent, ctx.snowflake("message_id"))
    if message.thread_id is not None:
        raise ApiError(400, 160004, "A thread has already been created for this message")
    _require(ctx, parent.guild, CREATE_PUBLIC_THREADS)
    kind = NEWS_THREAD if parent.type == GUILD_NEWS else PUBLIC_THREAD
    thread = _new_thread(ctx, parent, message.id, kind)  # same id as the starter message
    message.thread_id = thread.id
    await _announce_thread(ctx, thread)
    return 201, thread.to_payload()


@route("POST", "/channels/{channel_id}/threads")
async def start_thread(ctx: Ctx) -> Result:
    parent = _channel(ctx)
    if parent.type not in (GUILD_TEXT, GUILD_NEWS) or parent.guild is None:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    kind = int((ctx.body or {}).get("type") or PRIVATE_THREAD)
    if kind not in (PUBLIC_THREAD, PRIVATE_THREAD, NEWS_THREAD):
        raise invalid_form(
            [
                SchemaError(
                    ("type",), "BASE_TYPE_CHOICES", f"Value {kind} is not a valid thread type."
                )
            ]
        )
    _require(
        ctx,
        parent.guild,
        CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS,
    )
    thread = _new_thread(ctx, parent, ctx.fake.ids.next(), kind)
    await _announce_thread(ctx, thread)
    return 201, thread.to_payload()


@route("PUT", "/channels/{channel_id}/thread-members/@me")
@route("PUT", "/channels/{channel_id}/thread-members/{user_id}")
async def add_thread_member(ctx: Ctx) -> Result:
    fake = ctx.fake
    thread = _channel(ctx)
    if not thread.is_thread or thread.guild is None:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    if thread.archived:
        raise ApiError(400, 50083, "Thread is archived")
    user_id = ctx.snowflake("user_id") if "user_id" in ctx.params else fake.bot_user.id
    _member(thread.guild, user_id)
    if user_id not in thread.thread_members:
        thread.thread_members[user_id] = now_iso()
        await fake._dispatch(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": str(thread.id),
                "guild_id": str(thread.guild.id),
                "member_count": len(thread.thread_members),
                "added_members": [thread.thread_member_payload(user_id)],
            },
            intent=1 << 1,
        )
    return 204, None


# -- guilds, members, roles --------------------------------------------------------------


@route("GET", "/guilds/{guild_id}")
async def get_guild(ctx: Ctx) -> Result:
    guild = _guild(ctx)
    payload = guild.to_payload(members=None)
    for key in (
        "members",
        "channels",
        "threads",
        "presences",
        "voice_states",
        "joined_at",
        "large",
        "unavailable",
        "member_count",
        "guild_scheduled_events",
        "soundboard_sounds",
        "stage_instances",
    ):
        payload.pop(key, None)
    return 200, payload


@route("GET", "/guilds/{guild_id}/channels")
async def get_guild_channels(ctx: Ctx) -> Result:
    guild = _guild(ctx)
    return 200, [c.to_payload() for c in guild.channels.values() if not c.is_thread]


@route("GET", "/guilds/{guild_id}/roles")
async def get_roles(ctx: Ctx) -> Result:
    return 200, [r.to_payload() for r in _guild(ctx).roles.values()]


@route("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(ctx: Ctx) -> Result:
    return 200, _member(_guild(ctx), ctx.snowflake("user_id")).to_payload()


@route("GET", "/guilds/{guild_id}/members")
async def list_members(ctx: Ctx) -> Result:
    guild = _guild(ctx)
    if not ctx.fake.privileged_intents & (1 << 1):
        raise ApiError(403, 50001, "Missing Access")
    limit = int(ctx.query.get("limit", 1))
    after = int(ctx.query.get("after", 0))
    if not 1 <= limit <= 1000:
        raise invalid_form(
            [SchemaError(("limit",), "NUMBER_TYPE_MAX", "int value should be between 1 and 1000.")]
        )
    members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
    return 200, [m.to_payload() for m in members[:limit]]


async def _role_change(ctx: Ctx, add: bool) -> Result:
    fake = ctx.fake
    guild = _guild(ctx)
    member = _member(guild, ctx.snowflake("user_id"))
    role = guild.roles.get(ctx.snowflake("role_id"))
    if role is None:
        raise ApiError(404, 10011, "Unknown Role")
    bot = _bot_member(ctx, guild)
    if (
        not bot.has(MANAGE_ROLES)
        or role.managed
        or role.id == guild.id
        or (role.position >= bot.top_position and guild.owner_id != bot.id)
    ):
        raise ApiError(403, 50013, "Missing Permissions")
    changed = False
    if add and role.id not in member.role_ids:
        member.role_ids.append(role.id)
        changed = True
    if not add and role.id in member.role_ids:
        member.role_ids.remove(role.id)
        changed = True
    if changed:
        await fake._dispatch(
            "GUILD_MEMBER_UPDATE", {"guild_id": str(guild.id), **member.to_payload()}, intent=1 << 1
        )
    return 204, None


@route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def add_role(ctx: Ctx) -> Result:
    return await _role_change(ctx, True)


@route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def remove_role(ctx: Ctx) -> Result:
    return await _role_change(ctx, False)


# -- scheduled events --------------------------------------------------------------------


def _parse_time(value: Any, path: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid_form(
            [SchemaError((path,), "DATE_TIME_TYPE_PARSE", f"Could not parse {value}.")]
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _event_rules(ctx: Ctx, guild: Guild, event: ScheduledEvent) -> None:
    """Discord's cross-field rules for scheduled events, answered as 50035."""
    errors: list[SchemaError] = []
    start = _parse_time(event.scheduled_start_time, "scheduled_start_time")
    if event.status == 1 and start <= datetime.now(UTC):
        errors.append(
            SchemaError(
                ("scheduled_start_time",),
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                "Cannot schedule event in the past.",
            )
        )
    if event.scheduled_end_time is not None:
        end = _parse_time(event.scheduled_end_time, "scheduled_end_time")
        if end <= start:
            errors.append(
                SchemaError(
                    ("scheduled_end_time",),
                    "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                    "Cannot schedule event to end before starting.",
                )
            )
    if event.entity_type == 3:
        if not event.location:
            errors.append(
                SchemaError(
                    ("entity_metadata", "location"), "BASE_TYPE_REQUIRED", "This field is required"
                )
            )
        if event.scheduled_end_time is None:
            errors.append(
                SchemaError(("scheduled_end_time",), "BASE_TYPE_REQUIRED", "This field is required")
            )
        if event.channel_id is not None:
            errors.append(
                SchemaError(
                    ("channel_id",), "BASE_TYPE_INVALID", "External events cannot have a channel."
                )
            )
    else:
        channel = guild.channels.get(event.channel_id or 0)
        expected = GUILD_STAGE_VOICE if event.entity_type == 1 else GUILD_VOICE
        if channel is None or channel.type != expected:
            errors.append(
                SchemaError(
                    ("channel_id",),
                    "BASE_TYPE_REQUIRED",
                    "A voice or stage channel of this guild is required.",
                )
            )
    if errors:
        raise invalid_form(errors)


def _apply_event_fields(event: ScheduledEvent, body: dict[str, Any]) -> None:
    for key in (
        "name",
        "description",
        "scheduled_start_time",
        "scheduled_end_time",
        "privacy_level",
        "image",
    ):
        if key in body:
            setattr(event, key, body[key])
    if "entity_type" in body and body["entity_type"] is not None:
        event.entity_type = int(body["entity_type"])
    if "channel_id" in body:
        event.channel_id = int(body["channel_id"]) if body["channel_id"] else None
    if "entity_metadata" in body:
        event.location = (body["entity_metadata"] or {}).get("location")


def _event(ctx: Ctx, guild: Guild) -> ScheduledEvent:
    event = guild.scheduled_events.get(ctx.snowflake("guild_scheduled_event_id"))
    if event is None or event.deleted:
        raise ApiError(404, 10070, "Unknown Guild Scheduled Event")
    return event


@route("POST", "/guilds/{guild_id}/scheduled-events")
async def create_event(ctx: Ctx) -> Result:
    fake = ctx.fake
    guild = _guild(ctx)
    _require(ctx, guild, MANAGE_EVENTS, CREATE_EVENTS)
    body = ctx.body or {}
    event = ScheduledEvent(
        fake.ids.next(),
        guild,
        body["name"],
        body["scheduled_start_time"],
        int(body["entity_type"]),
        creator_id=fake.bot_user.id,
    )
    _apply_event_fields(event, body)
    _event_rules(ctx, guild, event)
    guild.scheduled_events[event.id] = event
    await fake._dispatch("GUILD_SCHEDULED_EVENT_CREATE", event.to_payload(), intent=1 << 16)
    return 200, event.to_payload(fake.users)


# Status changes Discord allows: scheduled → active/canceled, active → completed.
EVENT_TRANSITIONS = {1: {1, 2, 4}, 2: {2, 3}, 3: {3}, 4: {4}}


@route("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def edit_event(ctx: Ctx) -> Result:
    fake = ctx.fake
    guild = _guild(ctx)
    _require(ctx, guild, MANAGE_EVENTS)
    event = _event(ctx, guild)
    body = ctx.body or {}
    if event.status in (3, 4):
        raise ApiError(400, 180000, "Cannot modify a finished event")
    status = int(body.get("status") or event.status)
    if status not in EVENT_TRANSITIONS[event.status]:
        raise invalid_form(
            [
                SchemaError(
                    ("status",),
                    "GUILD_SCHEDULED_EVENT_INVALID_STATUS",
                    f"Cannot change status {event.status} to {status}.",
                )
            ]
        )
    _apply_event_fields(event, body)
    event.status = status
    if event.status == 1:
        _event_rules(ctx, guild, event)
    await fake._dispatch("GUILD_SCHEDULED_EVENT_UPDATE", event.to_payload(), intent=1 << 16)
    return 200, event.to_payload(fake.users)


@route("DELETE", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def delete_event(ctx: Ctx) -> Result:
    guild = _guild(ctx)
    _require(ctx, guild, MANAGE_EVENTS)
    event = _event(ctx, guild)
    event.deleted = True
    await ctx.fake._dispatch("GUILD_SCHEDULED_EVENT_DELETE", event.to_payload(), intent=1 << 16)
    return 204, None


@route("GET", "/guilds/{guild_id}/scheduled-events")
async def list_events(ctx: Ctx) -> Result:
    guild = _guild(ctx)
    return 200, [
        e.to_payload(ctx.fake.users) for e in guild.scheduled_events.values() if not e.deleted
    ]


@route("GET", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def get_event(ctx: Ctx) -> Result:
    guild = _guild(ctx)
    return 200, _event(ctx, guild).to_payload(ctx.fake.users)
