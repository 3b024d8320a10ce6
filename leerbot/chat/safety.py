"""Where to find help, and the house rules: one glance away wherever a member is asked to
share something (round invitations, answer forms and confirmations, discussion threads,
`/help`, the welcome). The help lines are the standard Dutch ones (huisarts, 113, 112) unless
the community's configuration extends or replaces them (`safety.help_lines`)."""

from __future__ import annotations

from leerbot.chat.reply import Field, Reply, UserText
from leerbot.config import Settings
from leerbot.i18n import Msg, normalize_locale, translate


def help_text(settings: Settings, locale: str) -> str:
    """The help lines in `locale`: standard, extended or replaced by the configuration."""
    locale = normalize_locale(locale)
    lines = settings.safety.help_lines
    own = lines.en if locale == "en" else lines.nl
    own = own or lines.nl or lines.en  # one language given: better than nothing
    standard = translate(locale, "safety.help_lines")
    if lines.mode == "replace":
        return own or standard
    return f"{standard}\n{own}" if own else standard


def help_field(settings: Settings, locale: str) -> Field:
    return Field(Msg("safety.help_title"), UserText(help_text(settings, locale)))


def house_rules_fields(settings: Settings, locale: str) -> list[Field]:
    """The house rules (with their sources) and where to find help, as two fields."""
    rules = (
        translate(locale, "safety.house_rules")
        + "\n"
        + translate(locale, "safety.house_rules_sources")
    )
    return [
        Field(Msg("safety.house_rules_title"), UserText(rules)),
        help_field(settings, locale),
    ]


def welcome(settings: Settings, locale: str, community_name: str) -> Reply:
    """The short welcome a member gets once, on first contact, in their language."""
    return Reply(
        title=Msg("safety.welcome_title", {"community": community_name}),
        text=Msg("safety.welcome"),
        fields=house_rules_fields(settings, locale),
        locale=locale,
    )


def thread_intro(settings: Settings, locale: str) -> Reply:
    """The first message of a discussion thread (agenda point, practice, session)."""
    return Reply(
        title=Msg("safety.thread_intro_title"),
        text=Msg("safety.thread_intro"),
        fields=house_rules_fields(settings, locale),
        locale=locale,
    )
