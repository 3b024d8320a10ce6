"""`/help`: the commands the caller may use, one line each, in their language."""

from __future__ import annotations

from leerbot.chat.commands import Param, ParamType, registry
from leerbot.chat.community import LANGUAGE_CHOICES
from leerbot.chat.context import Context
from leerbot.chat.reply import Reply, UserText
from leerbot.chat.safety import house_rules_fields
from leerbot.core.permissions import Action, may
from leerbot.i18n import Msg, translate


@registry.command(
    "help",
    "help",
    permission=Action.VIEW_HELP,
    params=(Param("taal", "language", ParamType.TEXT, max_length=2, choices=LANGUAGE_CHOICES),),
)
async def help_command(ctx: Context, taal: str | None) -> Reply:
    locale = taal or ctx.locale
    lines = []
    for command in registry.sorted_commands():
        if may(ctx.actor, command.permission):
            description = translate(locale, f"{command.key}.description")
            lines.append(f"`/{command.name(locale)}` — {description}")
    reply = Reply(
        title=Msg("help.title"),
        text=UserText(translate(locale, "help.intro") + "\n\n" + "\n".join(lines)),
        fields=house_rules_fields(ctx.settings, locale),
    )
    reply.locale = locale
    return reply
