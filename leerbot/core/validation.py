"""Small checks shared by every capability, each failing with a message key."""

from __future__ import annotations

from leerbot.core.errors import ValidationFailed


def clean_text(
    value: str | None,
    *,
    field: str,
    max_length: int,
    required: bool = True,
    min_length: int = 1,
) -> str | None:
    """Strip, then check presence and length. Returns None for an empty optional field."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed("errors.required", field=field)
        return None
    if len(text) > max_length:
        raise ValidationFailed("errors.too_long", field=field, max=max_length, length=len(text))
    if len(text) < min_length:
        raise ValidationFailed("errors.too_short", field=field, min=min_length)
    return text


def name_key(name: str) -> str:
    """Case- and space-insensitive key, so "De Achterkant" and "de  achterkant" are one site."""
    return " ".join(name.casefold().split())
