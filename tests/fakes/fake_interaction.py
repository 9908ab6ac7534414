"""A thin stand-in for ``discord.Interaction`` that records every answer, for calling command
callbacks directly (``cog.generate.callback(cog, interaction, ...)``).

It enforces the one rule that matters most: a single initial response (``defer``, ``send_message``,
``send_modal``, ``edit_message``), then only follow-ups. Users, roles and attachments are small
dataclasses with the attributes the cogs read.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord

_ids = itertools.count(5_000_000)


@dataclass
class FakeRole:
    id: int


@dataclass
class FakeUser:
    id: int
    roles: list[FakeRole] = field(default_factory=list)
    name: str = "member"

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class FakeAttachment:
    filename: str = "cat.png"
    content_type: str | None = "image/png"
    size: int = 200_000
    width: int | None = 1280
    height: int | None = 720
    url: str = "https://cdn.discordapp.com/attachments/1/2/cat.png"


@dataclass
class FakeSnapshot:
    """A forwarded message's copy (``discord.MessageSnapshot``): only what the cogs read."""

    attachments: list[FakeAttachment] = field(default_factory=list)


@dataclass
class FakeMessage:
    id: int = field(default_factory=lambda: next(_ids))
    attachments: list[FakeAttachment] = field(default_factory=list)
    content: str = ""
    message_snapshots: list[FakeSnapshot] = field(default_factory=list)


@dataclass
class Reply:
    kind: str  # "defer", "message", "followup", "modal", "edit", "edit_original"
    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    ephemeral: bool = False
    thinking: bool = False
    modal: discord.ui.Modal | None = None
    allowed_mentions: discord.AllowedMentions | None = None

    def text(self) -> str:
        parts = [self.content or ""]
        if self.embed is not None:
            parts += [self.embed.title or "", self.embed.description or ""]
            parts += [f"{f.name}: {f.value}" for f in self.embed.fields]
        return "\n".join(p for p in parts if p)


class FakeResponse:
    def __init__(self, interaction: FakeInteraction) -> None:
        self._interaction = interaction
        self._done = False

    def is_done(self) -> bool:
        return self._done

    def _first(self) -> None:
        if self._done:
            raise AssertionError("the interaction was already answered: use the follow-up")
        self._done = True

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self._first()
        self._interaction.replies.append(Reply("defer", ephemeral=ephemeral, thinking=thinking))

    async def send_message(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
        ephemeral: bool = False,
        allowed_mentions: discord.AllowedMentions | None = None,
        **_: Any,
    ) -> None:
        self._first()
        self._interaction.replies.append(
            Reply("message", content, embed, view, ephemeral, allowed_mentions=allowed_mentions)
        )

    async def send_modal(self, modal: discord.ui.Modal) -> None:
        self._first()
        self._interaction.replies.append(Reply("modal", modal=modal))

    async def edit_message(
        self, *, content: str | None = None, embed: discord.Embed | None = None, view: Any = None, **_: Any
    ) -> None:
        self._first()
        self._interaction.replies.append(Reply("edit", content, embed, view))


class FakeFollowup:
    def __init__(self, interaction: FakeInteraction) -> None:
        self._interaction = interaction

    async def send(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
        ephemeral: bool = False,
        allowed_mentions: discord.AllowedMentions | None = None,
        **_: Any,
    ) -> None:
        if not self._interaction.response.is_done():
            raise AssertionError("a follow-up before the initial response")
        self._interaction.replies.append(
            Reply("followup", content, embed, view, ephemeral, allowed_mentions=allowed_mentions)
        )


class FakeInteraction:
    def __init__(
        self,
        client: Any,
        *,
        user: FakeUser,
        guild_id: int | None,
        channel_id: int,
        permissions: discord.Permissions | None = None,
        app_permissions: discord.Permissions | None = None,
        channel: Any = None,
        created_at: datetime | None = None,
        message: Any = None,
    ) -> None:
        self.id = next(_ids)
        self.created_at = created_at or datetime.now(UTC)  # the follow-up token lives 15 minutes from it
        self.message = message  # the message a clicked button sits on
        self.client = client
        self.user = user
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.channel = channel
        self.permissions = (
            permissions
            if permissions is not None
            else discord.Permissions(send_messages=True, view_channel=True)
        )
        self.app_permissions = (
            app_permissions
            if app_permissions is not None
            else discord.Permissions(
                view_channel=True,
                send_messages=True,
                embed_links=True,
                attach_files=True,
                read_message_history=True,
            )
        )
        self.command = None
        self.edit_error: Exception | None = None
        self.replies: list[Reply] = []
        self.response = FakeResponse(self)
        self.followup = FakeFollowup(self)

    async def edit_original_response(self, *, view: Any, **_: Any) -> None:
        """Records the edit (``view`` is required here: it is what the cogs change); ``edit_error``,
        when set, is raised instead, as Discord would for a dismissed message or an expired token."""
        if self.edit_error is not None:
            raise self.edit_error
        self.replies.append(Reply("edit_original", view=view))

    @property
    def answers(self) -> list[Reply]:
        """What the member read: everything but the defer."""
        return [r for r in self.replies if r.kind != "defer"]

    @property
    def last(self) -> Reply:
        assert self.answers, "the command answered nothing"
        return self.answers[-1]
