"""The admin tests' guild layout over the shared kit of real discord.py objects.

Everything is built by ``tests.fakes.interactions`` (real ``Guild``/``Member``/``Interaction`` from
payloads, answers recorded); this module only fixes the ids and roles the admin tests name, and
keeps their spelling (``FakeInteraction(member, guild=guild)``, ``invoke``, ``host``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import discord

from bot.config import Settings
from bot.lifecycle.moderation import ModerationService
from tests.builders import make_settings
from tests.fakes import interactions as kit
from tests.fakes.interactions import KitInteraction, Reply, invoke, make_member, make_user

__all__ = [
    "ADMIN_ROLE",
    "CHANNEL_ID",
    "EVERYONE_ROLE",
    "GUILD_ID",
    "MANAGER_ROLE",
    "MOD_ROLE",
    "OTHER_CHANNEL_ID",
    "OTHER_GUILD_ID",
    "OWNER_ID",
    "PRO_ROLE",
    "VIP_ROLE",
    "VOICE_CHANNEL_ID",
    "FakeInteraction",
    "Reply",
    "invoke",
    "make_guild",
    "make_member",
    "make_user",
    "moderation",
    "role",
    "settings",
    "text_channel",
]

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


def make_guild(guild_id: int = GUILD_ID, *, owner_id: int = OWNER_ID) -> discord.Guild:
    """A guild with the moderator, manager, VIP, Pro and admin roles and two text + one voice channel."""
    none = discord.Permissions.none()
    return kit.make_guild(
        guild_id,
        owner_id=owner_id,
        roles=[
            kit.role_payload(MOD_ROLE, "Video mods", none, 1),
            kit.role_payload(MANAGER_ROLE, "Managers", discord.Permissions(manage_guild=True), 2),
            kit.role_payload(VIP_ROLE, "VIP", none, 3),
            kit.role_payload(PRO_ROLE, "Pro", none, 4),
            kit.role_payload(ADMIN_ROLE, "Admins", discord.Permissions(administrator=True), 5),
        ],
        channels=[
            kit.text_channel_payload(CHANNEL_ID, "videos", 0),
            kit.text_channel_payload(OTHER_CHANNEL_ID, "chat", 1),
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
    )


def text_channel(guild: discord.Guild, channel_id: int = CHANNEL_ID) -> discord.TextChannel:
    channel = guild.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def role(guild: discord.Guild, role_id: int) -> discord.Role:
    found = guild.get_role(role_id)
    assert found is not None
    return found


def settings(**overrides: Any) -> Settings:
    return make_settings(**{"task_timeout": 1200.0, **overrides})


def moderation(
    storage: Any, service: Any = None, *, clock: Callable[[], float] = time.time, **settings_overrides: Any
) -> ModerationService:
    """The moderation service the admin cog talks to, over ``storage`` and a (stub) video service."""
    return ModerationService(
        storage=storage, settings=settings(**settings_overrides), video=service, clock=clock
    )


def FakeInteraction(
    user: discord.Member | discord.User, *, guild: discord.Guild | None, client: Any = None
) -> KitInteraction:
    """An application-command interaction in the admin tests' ``#videos`` (or a DM without a guild)."""
    return kit.make_interaction(
        client, user=user, guild=guild, channel_id=CHANNEL_ID if guild is not None else kit.DM_CHANNEL_ID
    )
