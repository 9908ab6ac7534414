"""`/videoadmin`: how moderators control who generates what, where and at what cost.

One cog over several files, split by subgroup: each module holds one part of the commands as a mixin
(:mod:`~cogs.admin.quota`, :mod:`~cogs.admin.blocks`, :mod:`~cogs.admin.filter`,
:mod:`~cogs.admin.policy`, :mod:`~cogs.admin.channels`, :mod:`~cogs.admin.activity`,
:mod:`~cogs.admin.privacy`, :mod:`~cogs.admin.community`, :mod:`~cogs.admin.pools`) and
:mod:`~cogs.admin._base` the groups, the moderator gate and the Discord → plain-value conversions.
The rules themselves live in :class:`bot.lifecycle.moderation.ModerationService`; nothing here
touches storage.

``default_permissions`` hides the group from members, but server owners can grant it to anyone in
the integration settings, so every command and button also checks at run time (the service's
:meth:`~bot.lifecycle.moderation.ModerationService.authorize`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from cogs.admin._base import channels, filter_group, forget, pool, quota, videoadmin

# isort: off
# In this order on purpose: importing a module registers its commands in its group, and this is the
# order Discord lists them in (and the synced command set's digest sees).
from cogs.admin.quota import QuotaCommands
from cogs.admin.blocks import BlockCommands
from cogs.admin.filter import FilterCommands
from cogs.admin.policy import PolicyCommands
from cogs.admin.channels import ChannelCommands
from cogs.admin.activity import ActivityCommands
from cogs.admin.privacy import PrivacyCommands
from cogs.admin.community import CommunityCommands
from cogs.admin.pools import PoolCommands

# isort: on

if TYPE_CHECKING:
    from bot.app import VideoBot


class AdminCog(
    QuotaCommands,
    BlockCommands,
    FilterCommands,
    PolicyCommands,
    ChannelCommands,
    ActivityCommands,
    PrivacyCommands,
    CommunityCommands,
    PoolCommands,
    commands.Cog,
):
    videoadmin = videoadmin
    quota = quota
    filter_group = filter_group
    channels = channels
    forget = forget
    pool = pool


def command_names(cog: AdminCog) -> Sequence[str]:
    """Every `/videoadmin` command's full name, for the import test and the README."""
    return [c.qualified_name for c in cog.walk_app_commands() if isinstance(c, app_commands.Command)]


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(AdminCog(bot.moderation))
