"""Moderation: the `/videoadmin` rules as a service of plain-data methods, beside the video service.

``service`` holds the rules, ``records`` the values going in and out, ``values`` the checks of what a
moderator typed. No Discord here: the admin cog converts Discord's objects to these records.
"""

from bot.lifecycle.moderation._core import VideoControls
from bot.lifecycle.moderation.community import ShowcaseChannel
from bot.lifecycle.moderation.records import (
    AuditPage,
    ChannelChange,
    ChannelOutcome,
    ChannelRef,
    FilterChoice,
    MemberRef,
    ModerationRefused,
    Moderator,
    Page,
    PolicyEdit,
    PolicyUpdate,
    PolicyView,
    QuotaReport,
    ResumeOutcome,
    RoleRef,
    TaskPage,
    TaskResolution,
)
from bot.lifecycle.moderation.service import ModerationService
from bot.lifecycle.moderation.tasks import STUCK, UNFINISHED

__all__ = [
    "STUCK",
    "UNFINISHED",
    "AuditPage",
    "ChannelChange",
    "ChannelOutcome",
    "ChannelRef",
    "FilterChoice",
    "MemberRef",
    "ModerationRefused",
    "ModerationService",
    "Moderator",
    "Page",
    "PolicyEdit",
    "PolicyUpdate",
    "PolicyView",
    "QuotaReport",
    "ResumeOutcome",
    "RoleRef",
    "ShowcaseChannel",
    "TaskPage",
    "TaskResolution",
    "VideoControls",
]
