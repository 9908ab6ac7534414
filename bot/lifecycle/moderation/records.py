"""The plain values `/videoadmin` hands the moderation service and gets back from it.

The cog turns Discord's members, roles and channels into these references (ids, and the guild each
came from, so the service can refuse one from another server), and renders the answers; the service
never sees a Discord object.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.lifecycle.actor import Actor
from bot.lifecycle.validation import RequestRefused
from storage.models import (
    AuditEntry,
    Block,
    Change,
    GuildDefault,
    GuildPolicy,
    GuildUsage,
    RoleLimit,
    Task,
    Usage,
    UserOverride,
)

T = TypeVar("T")


class ModerationRefused(RequestRefused):
    """A moderator action that is not done: ``message`` says why and how to fix it; nothing changed."""


@dataclass(frozen=True)
class Moderator:
    """A checked moderator in a guild: only :meth:`ModerationService.authorize` makes one, and every
    other method of the service takes one, so no action runs without the check."""

    actor: Actor
    guild_id: int
    policy: GuildPolicy

    @property
    def actor_id(self) -> int:
        return self.actor.user_id


@dataclass(frozen=True)
class MemberRef:
    """A member an action concerns, with the guild Discord resolved them in."""

    user_id: int
    guild_id: int
    role_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class RoleRef:
    role_id: int
    guild_id: int

    @property
    def is_everyone(self) -> bool:
        """Discord gives @everyone the guild's own id."""
        return self.role_id == self.guild_id


@dataclass(frozen=True)
class ChannelRef:
    channel_id: int
    guild_id: int
    is_text: bool


@dataclass(frozen=True)
class PolicyEdit:
    """The parts of the policy a moderator named, as the command's options gave them (``None``: not
    named; ``"any"`` lifts a maximum, ``"none"``/``0`` the cap); the service checks and converts them."""

    allowed_models: str | None = None  # a comma list, or "all"
    max_resolution: str | None = None  # a resolution, or "any"
    max_duration: str | None = None  # seconds, or "any"
    results: str | None = None  # "public" or "private"
    moderator_role: RoleRef | None = None
    remove_moderator_role: bool = False
    cap: str | None = None  # credits per period, or "none"
    threads: str | None = None  # "on", "off", or "default" (the bot's THREAD_PER_VIDEO)


@dataclass(frozen=True)
class PolicyUpdate:
    change: Change[GuildPolicy]
    cap_period: str | None  # the period the cap counts in, when the edit set a cap


@dataclass(frozen=True)
class PolicyView:
    policy: GuildPolicy
    guild_default: GuildDefault | None


@dataclass(frozen=True)
class QuotaReport:
    """A member's allowance, usage and where their limit comes from, for `/videoadmin quota show`."""

    usage: Usage
    override: UserOverride | None
    best_role: RoleLimit | None
    guild_default: GuildDefault | None
    block: Block | None
    guild_usage: GuildUsage | None


class ChannelOutcome(enum.Enum):
    ALLOW_LISTED = "allow-listed"  # added to the allow-list
    DENY_LIFTED = "deny-lifted"  # a deny removed; the allow-list stays empty (every channel)
    DENIED = "denied"
    LAST_ALLOWED_DENIED = "last-allowed-denied"  # the allow-list is empty now: every other channel


@dataclass(frozen=True)
class ChannelChange:
    change: Change[bool]
    outcome: ChannelOutcome
    allow_list: tuple[int, ...] = ()  # the allow-list after an allow
    was_open: bool = False  # the allow-list was empty before an allow


@dataclass(frozen=True)
class ResumeOutcome:
    change: Change[GuildPolicy]
    account_resumed: bool  # the bot-wide pause after an account problem was lifted too
    # That pause is on and stays on: only the bot's operator may lift it, and this was not them.
    account_needs_operator: bool = False


@dataclass(frozen=True)
class TaskResolution:
    """An ``unknown`` task a moderator settled: as it was, and as it is now."""

    before: Task
    after: Task


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: ``page`` is the page actually shown (a list that shrank moves it back)."""

    items: Sequence[T]
    page: int
    pages: int
    total: int


TaskPage = Page[Task]
AuditPage = Page[AuditEntry]


@dataclass(frozen=True)
class FilterChoice:
    name: str
    value: str


__all__ = [
    "AuditPage",
    "ChannelChange",
    "ChannelOutcome",
    "ChannelRef",
    "FilterChoice",
    "MemberRef",
    "ModerationRefused",
    "Moderator",
    "Page",
    "PolicyEdit",
    "PolicyUpdate",
    "PolicyView",
    "QuotaReport",
    "ResumeOutcome",
    "RoleRef",
    "TaskPage",
    "TaskResolution",
]
