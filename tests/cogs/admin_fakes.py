"""Real discord.py guild/member/role/channel objects, and a thin fake interaction that records replies.

The objects are built from Discord payloads with a tiny connection-state stand-in, so permission
checks (`guild_permissions`, owner, administrator, roles) run discord.py's own code. The interaction
only records what the command answered; commands are invoked through their real callbacks.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands

from bot.config import Secret, Settings
from bot.lifecycle.moderation import ModerationService
from cogs.replies import reply_error

GUILD_ID = 1000
OTHER_GUILD_ID = 2000
OWNER_ID = 1
CHANNEL_ID = 500
OTHER_CHANNEL_ID = 501
VOICE_CHANNEL_ID = 502
EVERYONE_ROLE = GUILD_ID  # Discord gives @everyone the guild's id
MOD_ROLE = 200  # the configured moderator role (no permissions of its own)
MANAGER_ROLE = 300  # has Manage Server
VIP_ROLE = 400
PRO_ROLE = 401
ADMIN_ROLE = 500  # Administrator implies every permission

_PERM_DEFAULT = discord.Permissions(view_channel=True, send_messages=True, use_application_commands=True)
_ids = itertools.count(10_000)


class _State:
    """The few attributes discord.py's models read from a ConnectionState."""

    self_id = 999
    shard_count = 1
    member_cache_flags = discord.MemberCacheFlags.none()
    cache_guild_expressions = False
    _intents = discord.Intents.default()

    def _get_guild(self, guild_id: int | None) -> None:
        return None

    def store_user(self, data: Any, *, cache: bool = True) -> discord.User:
        return discord.User(state=self, data=data)  # type: ignore[arg-type]

    def create_user(self, data: Any) -> discord.User:
        return discord.User(state=self, data=data)  # type: ignore[arg-type]

    def _get_client(self) -> None:
        return None

    def get_channel(self, channel_id: int) -> None:
        return None


STATE = _State()


def _role(role_id: int, name: str, permissions: discord.Permissions, position: int) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions.value),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
    }


def make_guild(guild_id: int = GUILD_ID, *, owner_id: int = OWNER_ID) -> discord.Guild:
    data = {
        "id": str(guild_id),
        "name": f"Guild {guild_id}",
        "owner_id": str(owner_id),
        "roles": [
            _role(guild_id, "@everyone", _PERM_DEFAULT, 0),
            _role(MOD_ROLE, "Video mods", discord.Permissions.none(), 1),
            _role(MANAGER_ROLE, "Managers", discord.Permissions(manage_guild=True), 2),
            _role(VIP_ROLE, "VIP", discord.Permissions.none(), 3),
            _role(PRO_ROLE, "Pro", discord.Permissions.none(), 4),
            _role(ADMIN_ROLE, "Admins", discord.Permissions(administrator=True), 5),
        ],
        "channels": [
            {"id": str(CHANNEL_ID), "type": 0, "name": "videos", "position": 0, "permission_overwrites": []},
            {
                "id": str(OTHER_CHANNEL_ID),
                "type": 0,
                "name": "chat",
                "position": 1,
                "permission_overwrites": [],
            },
            {
                "id": str(VOICE_CHANNEL_ID),
                "type": 2,
                "name": "voice",
                "position": 2,
                "permission_overwrites": [],
                "bitrate": 64000,
                "user_limit": 0,
            },
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 10,
    }
    return discord.Guild(data=data, state=STATE)  # type: ignore[arg-type]


def _user_data(user_id: int, name: str) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "avatar": None, "global_name": None}


def make_member(
    guild: discord.Guild, user_id: int, *role_ids: int, name: str | None = None
) -> discord.Member:
    data = {
        "user": _user_data(user_id, name or f"user{user_id}"),
        "roles": [str(r) for r in role_ids],
        "joined_at": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
    }
    return discord.Member(data=data, guild=guild, state=STATE)  # type: ignore[arg-type]


def make_user(user_id: int, name: str = "dm-user") -> discord.User:
    return discord.User(state=STATE, data=_user_data(user_id, name))  # type: ignore[arg-type]


def text_channel(guild: discord.Guild, channel_id: int = CHANNEL_ID) -> discord.TextChannel:
    channel = guild.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def role(guild: discord.Guild, role_id: int) -> discord.Role:
    found = guild.get_role(role_id)
    assert found is not None
    return found


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_token": Secret("discord-token"),
        "minimax_api_key": Secret("minimax-key"),
        "default_quota_tenths": 50,
        "default_quota_period": "day",
        "task_timeout": 1200.0,
    }
    values.update(overrides)
    return Settings(**values)


def moderation(
    storage: Any, service: Any = None, *, clock: Callable[[], float] = time.time, **settings_overrides: Any
) -> ModerationService:
    """The moderation service the admin cog talks to, over ``storage`` and a (stub) video service."""
    return ModerationService(
        storage=storage, settings=settings(**settings_overrides), video=service, clock=clock
    )


# -- the interaction ---------------------------------------------------------------------------------


@dataclass
class Reply:
    kind: str  # "message", "followup", "edit", "modal", "defer"
    content: str | None = None
    embed: discord.Embed | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = False
    modal: discord.ui.Modal | None = None

    @property
    def all_embeds(self) -> list[discord.Embed]:
        return ([self.embed] if self.embed is not None else []) + list(self.embeds)

    def text(self) -> str:
        """Everything a reader would see, flattened: content, titles, descriptions, fields, footers."""
        parts = [self.content or ""]
        for embed in self.all_embeds:
            parts += [embed.title or "", embed.description or ""]
            for f in embed.fields:
                parts += [f.name or "", f.value or ""]
            parts.append(embed.footer.text or "")
        return "\n".join(p for p in parts if p)


class FakeResponse:
    def __init__(self, interaction: FakeInteraction) -> None:
        self._interaction = interaction
        self._done = False

    def is_done(self) -> bool:
        return self._done

    def _respond(self) -> None:
        if self._done:
            raise discord.InteractionResponded(self._interaction)  # type: ignore[arg-type]
        self._done = True

    async def send_message(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        embeds: list[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
        ephemeral: bool = False,
        allowed_mentions: discord.AllowedMentions | None = None,
        **_: Any,
    ) -> None:
        self._respond()
        self._interaction.replies.append(
            Reply("message", content, embed, list(embeds or []), view, ephemeral)
        )

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self._respond()
        self._interaction.replies.append(Reply("defer", ephemeral=ephemeral))

    async def edit_message(
        self,
        *,
        content: str | None = None,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
        **_: Any,
    ) -> None:
        self._respond()
        self._interaction.replies.append(Reply("edit", content, embed, [], view))

    async def send_modal(self, modal: discord.ui.Modal) -> None:
        self._respond()
        self._interaction.replies.append(Reply("modal", modal=modal))


class FakeFollowup:
    def __init__(self, interaction: FakeInteraction) -> None:
        self._interaction = interaction

    async def send(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        embeds: list[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
        ephemeral: bool = False,
        **_: Any,
    ) -> None:
        assert self._interaction.response.is_done(), "a follow-up before the initial response"
        self._interaction.replies.append(
            Reply("followup", content, embed, list(embeds or []), view, ephemeral)
        )


class FakeInteraction:
    def __init__(
        self, user: discord.Member | discord.User, *, guild: discord.Guild | None, client: Any = None
    ) -> None:
        self.id = next(_ids)
        self.user = user
        self.guild = guild
        self.guild_id = guild.id if guild is not None else None
        self.channel_id = CHANNEL_ID if guild is not None else 77
        self.channel = guild.get_channel(CHANNEL_ID) if guild is not None else None
        self.client = client
        # What Discord resolved for the member in the channel; the payloads here carry none.
        self.permissions = discord.Permissions.none()
        self.command: Any = None
        self.replies: list[Reply] = []
        self.response = FakeResponse(self)
        self.followup = FakeFollowup(self)

    @property
    def last(self) -> Reply:
        assert self.replies, "the command did not answer"
        return self.replies[-1]


async def invoke(
    command: app_commands.Command[Any, Any, Any], cog: Any, interaction: FakeInteraction, **kwargs: Any
) -> Reply:
    """Run the real callback; a refusal goes through the tree's real error handler, as in production."""
    interaction.command = command
    try:
        await command.callback(cog, interaction, **kwargs)  # type: ignore[arg-type]
    except app_commands.AppCommandError as error:
        await reply_error(interaction, error)  # type: ignore[arg-type]
    return interaction.last
