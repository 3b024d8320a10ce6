"""Discord's official OpenAPI document as the referee for every request the bot sends.

The document (MIT, by Discord, see ``openapi/discord-openapi.LICENSE``) is loaded lazily and
cached, because it is 1.2 MB and most processes never need it. Request bodies are validated
with jsonschema (Draft 2020-12, which OpenAPI 3.1 schemas are) against the operation's
``requestBody`` schema, with ``$ref: '#/components/...'`` resolved through a ``referencing``
registry that holds the whole document.

Where the document is stricter than the live API, the difference is patched in memory in
:data:`KNOWN_QUIRKS`, each entry with the reason, instead of switching validation off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_PATH = Path(__file__).with_name("openapi") / "discord-openapi.json"
DOCUMENT_URI = "urn:discord-openapi"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


def _pointer(*parts: str) -> str:
    """JSON pointer into the document, escaped per RFC 6901."""
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _allow_numeric_string(schema: dict[str, Any]) -> None:
    """Permissions are documented as strings; the document says integer. Both are accepted."""
    schema["type"] = (
        [*schema["type"], "string"]
        if isinstance(schema["type"], list)
        else [
            schema["type"],
            "string",
        ]
    )
    schema["pattern"] = "^[0-9]+$"


# (schema name, property, patch, reason). Applied once, after loading.
KNOWN_QUIRKS: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    (
        name,
        "default_member_permissions",
        _allow_numeric_string,
        "Discord documents permissions as a string of digits (discord.py sends one); the "
        "OpenAPI document types it as integer. The live API accepts both.",
    )
    for name in (
        "ApplicationCommandCreateRequest",
        "ApplicationCommandUpdateRequest",
        "ApplicationCommandPatchRequestPartial",
    )
]


# Whole-schema replacements: (schema name, replacement, reason).
SCHEMA_QUIRKS: list[tuple[str, dict[str, Any], str]] = [
    (
        "SnowflakeType",
        {
            "oneOf": [
                {"type": "string", "pattern": "^(0|[1-9][0-9]*)$", "format": "snowflake"},
                {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
            ]
        },
        "The document types snowflakes as strings, but the live API parses JSON integers as "
        "snowflakes too (discord.py sends e.g. recipient_id, allowed_mentions.users and new "
        "attachment ids as integers, and Discord accepts them).",
    ),
]


@cache
def load_document() -> dict[str, Any]:
    """The parsed document with known quirks patched; cached for the process."""
    doc: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    for name, replacement, _why in SCHEMA_QUIRKS:
        schemas[name] = replacement
    for name, prop, patch, _reason in KNOWN_QUIRKS:
        target = schemas.get(name, {}).get("properties", {}).get(prop)
        if target is not None and "type" in target:
            patch(target)
    return doc


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_document(), default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource)


def _format_checker() -> FormatChecker:
    """Only formats whose meaning is certain are checked; unknown ones pass (as jsonschema's)."""
    checker = FormatChecker(formats=())

    @checker.checks("snowflake", raises=ValueError)
    def _snowflake(value: object) -> bool:
        if isinstance(value, int):
            return 0 <= value < 2**64
        if isinstance(value, str):
            return value.isdigit() and int(value) < 2**64
        return True

    @checker.checks("int64")
    def _int64(value: object) -> bool:
        return not isinstance(value, int) or -(2**63) <= value < 2**63

    @checker.checks("int32")
    def _int32(value: object) -> bool:
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if isinstance(value, str):
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    return checker


@cache
def _validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer``; refs resolve against the whole document."""
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"},
        registry=_registry(),
        format_checker=_format_checker(),
    )


@dataclass(frozen=True)
class Operation:
    """One (method, path template) of the document."""

    method: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]
    param_names: tuple[str, ...]
    spec: dict[str, Any] = field(repr=False, hash=False, compare=False)
    path_params: dict[str, Any] = field(repr=False, hash=False, compare=False)

    @property
    def needs_bot_token(self) -> bool:
        """Routes with a token in the path (webhooks, interaction callbacks) allow ``{}``."""
        security = self.spec.get("security", [])
        return bool(security) and {} not in security and any("BotToken" in s for s in security)

    def request_schema_pointer(self, content_type: str) -> str | None:
        body = self.spec.get("requestBody")
        if not body or content_type not in body.get("content", {}):
            return None
        return _pointer(
            "paths", self.template, self.method, "requestBody", "content", content_type, "schema"
        )

    def accepts(self, content_type: str) -> bool:
        return content_type in self.spec.get("requestBody", {}).get("content", {})

    @property
    def body_required(self) -> bool:
        return bool(self.spec.get("requestBody", {}).get("required"))

    def response_schema_pointer(self, status: int) -> str | None:
        responses = self.spec.get("responses", {})
        key = str(status)
        if key not in responses:
            return None
        content = responses[key].get("content", {})
        if "application/json" not in content:
            return None
        return _pointer(
            "paths",
            self.template,
            self.method,
            "responses",
            key,
            "content",
            "application/json",
            "schema",
        )


@cache
def operations() -> dict[str, list[Operation]]:
    """All operations by HTTP method, literal routes before templated ones (as a router would)."""
    doc = load_document()
    by_method: dict[str, list[Operation]] = {m.upper(): [] for m in HTTP_METHODS}
    for template, item in doc["paths"].items():
        shared = {p["name"]: p for p in item.get("parameters", []) if p.get("in") == "path"}
        names = tuple(re.findall(r"{(\w+)}", template))
        regex = "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        for method in HTTP_METHODS:
            if method not in item:
                continue
            spec = item[method]
            params = dict(shared)
            params.update(
                {p["name"]: p for p in spec.get("parameters", []) if p.get("in") == "path"}
            )
            by_method[method.upper()].append(
                Operation(
                    method,
                    template,
                    spec.get("operationId", ""),
                    re.compile(regex),
                    names,
                    spec,
                    params,
                )
            )
    for ops in by_method.values():
        # A literal segment (e.g. "@me", "@original") must win over a {param} in the same place.
        ops.sort(key=lambda op: (len(op.param_names), -len(op.template)))
    return by_method


def match(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation for a concrete request path (without the /api/v10 prefix), or None."""
    for op in operations().get(method.upper(), []):
        found = op.pattern.match(path)
        if found:
            return op, found.groupdict()
    return None


@dataclass
class SchemaError:
    """One problem in a request or response, located by its JSON path."""

    path: tuple[str | int, ...]
    code: str
    message: str

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path) or "<body>"
        return f"{where}: {self.message}"


_CODES = {
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "required": "BASE_TYPE_REQUIRED",
    "type": "BASE_TYPE_BAD_TYPE",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "enum": "BASE_TYPE_CHOICES",
    "pattern": "STRING_TYPE_REGEX",
    "maximum": "NUMBER_TYPE_MAX",
    "minimum": "NUMBER_TYPE_MIN",
}


def _names_discriminator(error: ValidationError) -> bool:
    """True when ``error`` says the value's own ``type`` (discriminator) does not fit."""
    path = list(error.relative_path)
    return path == ["type"] or (error.validator == "type" and not path)


def _narrow(error: ValidationError) -> ValidationError:
    """For a failed union, report the branch the payload meant (its ``type`` matched).

    Discord's unions are discriminated by ``type``; jsonschema's generic best_match can pick
    an irrelevant branch, which would give a misleading message.
    """
    while error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[object, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [
            errs for errs in branches.values() if not any(_names_discriminator(e) for e in errs)
        ]
        if len(meant) != 1:
            break
        error = best_match(meant[0]) or error
    return error


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 15] + f"...<{len(text)} chars>"


def _message(error: ValidationError) -> str:
    """Discord's wording where known, jsonschema's (shortened) otherwise."""
    v, n = error.validator, error.validator_value
    if v in ("maxLength", "maxItems"):
        return f"Must be {n} or fewer in length."
    if v in ("minLength", "minItems"):
        return f"Must be {n} or more in length."
    if v == "type":
        return f"Value {_short(error.instance)} is not of type {n}."
    if v == "enum":
        return f"Value {_short(error.instance)} is not one of {n}."
    if v == "pattern":
        return f"String value {_short(error.instance)} did not match validation regex {n}."
    if v == "maximum":
        return f"int value should be less than or equal to {n}."
    if v == "minimum":
        return f"int value should be greater than or equal to {n}."
    text = error.message
    return text if len(text) <= 300 else text[:300] + "..."


def _to_schema_errors(errors: Iterable[ValidationError]) -> list[SchemaError]:
    found: list[SchemaError] = []
    for error in errors:
        error = _narrow(error)
        path = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.validator_value, list):
            missing = [
                k
                for k in error.validator_value
                if isinstance(error.instance, dict) and k not in error.instance
            ]
            for key in missing or [""]:
                found.append(
                    SchemaError((*path, key), "BASE_TYPE_REQUIRED", "This field is required")
                )
            continue
        code = _CODES.get(str(error.validator), "BASE_TYPE_INVALID")
        found.append(SchemaError(path, code, _message(error)))
    return found


def validate(pointer: str, instance: Any) -> list[SchemaError]:
    """All schema errors of ``instance`` against the schema at ``pointer``."""
    return _to_schema_errors(_validator(pointer).iter_errors(instance))


def validate_path_params(op: Operation, params: dict[str, str]) -> list[SchemaError]:
    """Path parameters against their declared schemas (snowflakes, token lengths)."""
    found: list[SchemaError] = []
    for name, value in params.items():
        spec = op.path_params.get(name)
        if spec is None or "schema" not in spec:
            continue
        pointer_parts = ["paths", op.template]
        in_op = any(p.get("name") == name for p in op.spec.get("parameters", []))
        holder = (
            op.spec.get("parameters", [])
            if in_op
            else load_document()["paths"][op.template].get("parameters", [])
        )
        index = next(i for i, p in enumerate(holder) if p.get("name") == name)
        if in_op:
            pointer_parts.append(op.method)
        pointer = _pointer(*pointer_parts, "parameters", str(index), "schema")
        for err in validate(pointer, value):
            found.append(SchemaError((name,), err.code, f"path parameter {name}: {err.message}"))
    return found


def errors_to_discord(errors: Iterable[SchemaError]) -> dict[str, Any]:
    """Discord's nested ``errors`` object: ``{"field": {"_errors": [{code, message}]}}``."""
    tree: dict[str, Any] = {}
    for err in errors:
        node = tree
        for part in err.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
    return tree


def schema_pointer(name: str) -> str:
    """Pointer to a named component schema, e.g. ``MessageResponse``."""
    return _pointer("components", "schemas", name)
