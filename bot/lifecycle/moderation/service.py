"""ModerationService: every `/videoadmin` rule, on plain values, next to the video service.

The rules are grouped by what they govern: :mod:`~bot.lifecycle.moderation.limits` (allowances and
blocks), :mod:`~bot.lifecycle.moderation.rules` (filter, pause, channels, policy) and
:mod:`~bot.lifecycle.moderation.tasks` (statistics, tasks, audit),
:mod:`~bot.lifecycle.moderation.community` (the showcase), :mod:`~bot.lifecycle.moderation.pools`
(team credit pools) and
:mod:`~bot.lifecycle.moderation.privacy` (forgetting a member), over the gate and shared checks of
:mod:`~bot.lifecycle.moderation._core`. The admin cog talks to this one class.
"""

from __future__ import annotations

from bot.lifecycle.moderation.community import CommunityActions
from bot.lifecycle.moderation.limits import LimitActions
from bot.lifecycle.moderation.pools import PoolActions
from bot.lifecycle.moderation.privacy import PrivacyActions
from bot.lifecycle.moderation.rules import RuleActions
from bot.lifecycle.moderation.tasks import TaskActions


class ModerationService(
    LimitActions, RuleActions, TaskActions, PrivacyActions, CommunityActions, PoolActions
):
    """Build it with ``storage``, ``settings``, the video service (``video``) and a ``clock``."""
