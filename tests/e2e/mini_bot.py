"""A tiny discord.py bot with one command per thing the fake Discord must get right.

Why: it proves the fake speaks discord.py's protocol on its own, so when an end-to-end test of the
real bot fails, the fault is in the bot and not in the fake. Run it through ``launch_bot.py
--script``; it reads DISCORD_TOKEN and DISCORD_GUILD_IDS like the real bot.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os

import discord
from discord import app_commands
from discord.ext import commands

log = logging.getLogger("mini_bot")


class AgainView(discord.ui.View):
    """Persistent (timeout=None, fixed custom_id), so a click works after a restart too."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Again", style=discord.ButtonStyle.primary, custom_id="demo:again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[AgainView]) -> None:
        await interaction.response.edit_message(content="pong again", view=None)

    @discord.ui.button(label="Later", style=discord.ButtonStyle.secondary, custom_id="demo:later")
    async def later(self, interaction: discord.Interaction, button: discord.ui.Button[AgainView]) -> None:
        await interaction.response.defer()  # type 6: acknowledge now, edit the message afterwards
        await interaction.edit_original_response(content="pong later", view=None)
        note = await interaction.followup.send("working", ephemeral=True, wait=True)
        await note.delete()


class NameForm(discord.ui.Modal, title="Who are you?"):
    name: discord.ui.TextInput[NameForm] = discord.ui.TextInput(label="Name", custom_id="demo:form:name")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"hello {self.name.value}", ephemeral=True)


demo = app_commands.Group(name="demo", description="Exercise the fake Discord")
demo_admin = app_commands.Group(
    name="demoadmin",
    description="Only for Manage Server",
    default_permissions=discord.Permissions(manage_guild=True),
)


@demo.command(name="ping", description="Answer at once, with a button")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pong", view=AgainView())


@demo.command(name="slow", description="Defer, follow up with a file, then edit the original")
async def slow(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.followup.send(f"echo {text}", file=discord.File(io.BytesIO(b"hello-file"), "hello.txt"))
    await interaction.edit_original_response(content=f"echo {text} (edited)")
    original = await interaction.original_response()
    assert original.content == f"echo {text} (edited)"
    extra = await interaction.followup.send("second follow-up", ephemeral=True, wait=True)
    await extra.edit(content="second follow-up (edited)")


@demo.command(name="upload", description="Download the attachment and post a copy in the channel")
async def upload(interaction: discord.Interaction, image: discord.Attachment) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    data = await image.read()
    assert isinstance(interaction.channel, discord.abc.Messageable)
    posted = await interaction.channel.send(
        f"{image.filename} {image.width}x{image.height} {len(data)} bytes limit {interaction.filesize_limit}",
        file=discord.File(io.BytesIO(data), "copy.png"),
    )
    fetched = await interaction.channel.fetch_message(posted.id)
    await fetched.edit(content=fetched.content + " (posted)")
    scratch = await interaction.channel.send("scratch")
    await scratch.delete()
    history = [m.id async for m in interaction.channel.history(limit=10)]
    assert posted.id in history and scratch.id not in history
    await interaction.followup.send("posted", ephemeral=True)


@demo.command(name="form", description="Open a modal")
async def form(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(NameForm())


@demo.command(name="dm", description="Send the caller a direct message")
async def dm(interaction: discord.Interaction) -> None:
    await interaction.user.send("a direct message")
    await interaction.response.send_message("sent", ephemeral=True)


@demo.command(name="info", description="Describe the resolved options")
@app_commands.choices(
    size=[app_commands.Choice(name="Small", value="s"), app_commands.Choice(name="Large", value="l")]
)
async def info(
    interaction: discord.Interaction,
    who: discord.Member,
    where: discord.TextChannel,
    role: discord.Role,
    size: app_commands.Choice[str],
    count: app_commands.Range[int, 1, 5] = 1,
    ratio: float = 1.0,
    flag: bool = False,
) -> None:
    assert interaction.guild is not None
    fetched = await interaction.guild.fetch_member(who.id)
    roles = await interaction.guild.fetch_roles()
    assert fetched.id == who.id and any(r.id == role.id for r in roles)
    manage = who.guild_permissions.manage_guild
    text = f"{who.name} manage={manage} #{where.name} @{role.name} size={size.value} {count} {ratio} {flag}"
    await interaction.response.send_message(text, ephemeral=True)


@demo_admin.command(name="ping", description="Admin ping")
async def admin_ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("admin pong", ephemeral=True)


@app_commands.context_menu(name="Echo image")
async def echo_image(interaction: discord.Interaction, message: discord.Message) -> None:
    names = ",".join(a.filename for a in message.attachments)
    await interaction.response.send_message(
        f"{len(message.attachments)} attachment(s): {names}", ephemeral=True
    )


class MiniBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.1,
        )
        self.guild_ids = [int(g) for g in os.environ.get("DISCORD_GUILD_IDS", "").split(",") if g]

    async def setup_hook(self) -> None:
        self.tree.add_command(demo)
        self.tree.add_command(demo_admin)
        self.tree.add_command(echo_image)
        self.add_view(AgainView())
        for gid in self.guild_ids:
            guild = discord.Object(id=gid)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        log.info("MINI BOT READY as %s", self.user)

    async def on_resumed(self) -> None:
        log.info("MINI BOT RESUMED")


async def main() -> None:
    discord.utils.setup_logging(level=logging.INFO)
    async with MiniBot() as bot:
        await bot.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    asyncio.run(main())
