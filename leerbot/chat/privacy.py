"""`/mijngegevens`: see what is held, download it, delete it after a confirmation."""

from __future__ import annotations

from leerbot.chat.commands import registry
from leerbot.chat.context import Context
from leerbot.chat.reply import Attachment, Button, ButtonStyle, Field, Reply
from leerbot.core import privacy
from leerbot.core.permissions import Action
from leerbot.i18n import Msg


@registry.command("mijngegevens", "mydata", permission=Action.MANAGE_OWN_DATA)
async def my_data(ctx: Context) -> Reply:
    summaries = await privacy.summarize(ctx.db, ctx.actor)
    return Reply(
        title=Msg("privacy.title"),
        text=Msg("privacy.intro"),
        fields=[
            Field(Msg(f"privacy.handler.{s.handler}"), Msg(s.summary_key, s.counts))
            for s in summaries
        ],
        buttons=[
            Button(Msg("privacy.button_export"), "privacy.export", style=ButtonStyle.PRIMARY),
            Button(Msg("privacy.button_delete"), "privacy.delete", style=ButtonStyle.DANGER),
        ],
    )


@registry.action("privacy.export", permission=Action.MANAGE_OWN_DATA)
async def export_data(ctx: Context, _arg: str) -> Reply:
    data = await privacy.export(ctx.db, ctx.actor)
    stamp = ctx.now().strftime("%Y%m%d")
    return Reply(
        text=Msg("privacy.export_ready"),
        attachments=[Attachment(f"leerbot-mijngegevens-{stamp}.json", data)],
    )


@registry.action("privacy.delete", permission=Action.MANAGE_OWN_DATA)
async def ask_delete(ctx: Context, _arg: str) -> Reply:
    summaries = await privacy.summarize(ctx.db, ctx.actor)
    notes = [Msg(s.delete_note_key) for s in summaries if s.delete_note_key]
    return Reply(
        title=Msg("privacy.delete_title"),
        text=Msg("privacy.delete_confirm_question"),
        fields=[Field(Msg("privacy.delete_what_happens"), note) for note in notes],
        buttons=[
            Button(
                Msg("privacy.button_confirm_delete"),
                "privacy.delete_confirmed",
                style=ButtonStyle.DANGER,
            ),
            Button(Msg("privacy.button_cancel"), "privacy.delete_cancelled"),
        ],
    )


@registry.action("privacy.delete_confirmed", permission=Action.MANAGE_OWN_DATA)
async def delete_confirmed(ctx: Context, _arg: str) -> Reply:
    await privacy.delete(ctx.db, ctx.actor)
    reply = Reply.say("privacy.deleted")
    # what a front end keeps in memory about them (Discord: the DM channel) goes too
    reply.meta["forget_member"] = ctx.actor.platform_id
    return reply


@registry.action("privacy.delete_cancelled", permission=Action.MANAGE_OWN_DATA)
async def delete_cancelled(ctx: Context, _arg: str) -> Reply:
    return Reply.say("privacy.delete_cancelled")
