"""The server's rules: the prompt filter, the pause (and the bot-wide account pause), channels, policy."""

from __future__ import annotations

from typing import Any

from bot.lifecycle.moderation._core import ModerationCore, refusing_bad_values
from bot.lifecycle.moderation.records import (
    ChannelChange,
    ChannelOutcome,
    ChannelRef,
    FilterChoice,
    ModerationRefused,
    Moderator,
    PolicyEdit,
    PolicyUpdate,
    PolicyView,
    ResumeOutcome,
)
from bot.lifecycle.moderation.values import (
    check_length,
    clean_reason,
    parse_cap,
    parse_models,
    possible_videos,
)
from bot.lifecycle.prompt_filter import (
    MAX_TYPED_ENTRY_CHARS,
    FilterEntryError,
    compile_entry,
    display_entry,
    parse_entry,
)
from storage.models import Change, ChannelRules, GuildPolicy, PromptFilter
from storage.policy import UNSET


class RuleActions(ModerationCore):
    """What may be asked, where and when: the prompt filter, pauses, channel rules and the policy."""

    # ------------------------------------------------------------------------------ prompt filter

    async def add_filter(self, mod: Moderator, pattern: str) -> Change[PromptFilter]:
        """A word or phrase, or ``/a regex/``: refused before storing if it could not be matched safely."""
        try:
            compile_entry(pattern)
        except FilterEntryError as exc:
            raise ModerationRefused.keyed("admin.refused.invalid", detail=exc.words) from None
        raw, is_regex = parse_entry(pattern)
        with refusing_bad_values():
            return await self.storage.policy.add_filter(
                mod.guild_id, raw, is_regex=is_regex, actor_id=mod.actor_id, now=self._clock()
            )

    async def remove_filter(self, mod: Moderator, pattern: str) -> Change[PromptFilter]:
        """The entry as listed: its text (``/regex/`` for a regex), or ``#id``."""
        wanted = check_length(pattern.strip(), option="pattern", limit=MAX_TYPED_ENTRY_CHARS)
        entries = await self.storage.policy.filters(mod.guild_id)
        match = None
        if wanted.startswith("#") and wanted[1:].isdigit():
            match = next((f for f in entries if f.id == int(wanted[1:])), None)
        else:
            raw, is_regex = parse_entry(wanted)
            match = next((f for f in entries if f.pattern == raw and f.is_regex == is_regex), None)
        if match is None:
            raise ModerationRefused.keyed("admin.refused.filter_missing", entry=wanted)
        return await self.storage.policy.remove_filter(
            mod.guild_id, match.id, actor_id=mod.actor_id, now=self._clock()
        )

    async def filters(self, mod: Moderator) -> list[PromptFilter]:
        return await self.storage.policy.filters(mod.guild_id)

    async def filter_choices(self, mod: Moderator, current: str) -> list[FilterChoice]:
        """Entries matching what the moderator typed so far, at most 25 (Discord's limit)."""
        needle = current.strip().lower()
        choices = []
        for entry in await self.storage.policy.filters(mod.guild_id):
            shown = display_entry(entry.pattern, entry.is_regex)
            if needle in shown.lower() or needle == f"#{entry.id}":
                choices.append(FilterChoice(name=f"#{entry.id} {shown}"[:100], value=f"#{entry.id}"))
        return choices[:25]

    # ------------------------------------------------------------------------------ pause

    async def pause(self, mod: Moderator, reason: str | None) -> Change[GuildPolicy]:
        """No new videos in this guild; queued ones wait, ones already sent to the service finish."""
        text = clean_reason(reason)
        with refusing_bad_values():
            change = await self.storage.policy.pause(
                mod.guild_id, text, actor_id=mod.actor_id, now=self._clock()
            )
        self._policy_changed(mod.guild_id)
        return change

    async def resume(self, mod: Moderator) -> ResumeOutcome:
        """Lift the guild's pause and, if the API account problem paused every submission and the
        bot's operator asks, that too."""
        change = await self.storage.policy.resume(mod.guild_id, actor_id=mod.actor_id, now=self._clock())
        self._policy_changed(mod.guild_id)
        video = self.video
        if video is None or not video.submissions_paused:
            return ResumeOutcome(change, account_resumed=False)
        if not mod.actor.is_operator:
            # The account (and its balance) is the operator's, and the pause holds for every server:
            # a moderator of one server must not send every server's queue back into the problem.
            return ResumeOutcome(change, account_resumed=False, account_needs_operator=True)
        # The API reported an account problem (key, balance, plan) and the bot paused every
        # submission: the operator who says "resume" has fixed it, or wants one more try. It acts for
        # every server, so it is logged even when this server's own policy did not change; logged
        # first, so a failed write leaves the pause as it was rather than unaudited.
        await self.storage.audit.note(
            mod.guild_id,
            actor_id=mod.actor_id,
            action="account.resume",
            target="bot-wide submissions",
            before={"submissions": "paused after an account problem"},
            after={"submissions": "running"},
            now=self._clock(),
        )
        video.resume_submissions()
        return ResumeOutcome(change, account_resumed=True)

    # ------------------------------------------------------------------------------ channels

    async def channel_rules(self, mod: Moderator) -> ChannelRules:
        return await self.storage.policy.channel_rules(mod.guild_id)

    async def allow_channel(self, mod: Moderator, channel: ChannelRef) -> ChannelChange:
        """Put a channel on the allow-list; lifting a deny never starts an allow-list by surprise."""
        self._check_channel(mod, channel)
        rules = await self.storage.policy.channel_rules(mod.guild_id)
        now = self._clock()
        if channel.channel_id in rules.denied and not rules.allowed:
            # Lifting a deny must not start an allow-list and shut every other channel by surprise.
            change = await self.storage.policy.clear_channel(
                mod.guild_id, channel.channel_id, actor_id=mod.actor_id, now=now
            )
            return ChannelChange(change, ChannelOutcome.DENY_LIFTED)
        change = await self.storage.policy.allow_channel(
            mod.guild_id, channel.channel_id, actor_id=mod.actor_id, now=now
        )
        listed = tuple(sorted({*rules.allowed, channel.channel_id}))
        return ChannelChange(
            change, ChannelOutcome.ALLOW_LISTED, allow_list=listed, was_open=not rules.allowed
        )

    async def deny_channel(
        self, mod: Moderator, channel: ChannelRef, *, open_other_channels: bool
    ) -> ChannelChange:
        """Refuse `/video` in a channel. Denying the allow-list's last channel empties the list, which
        opens every other channel: that needs ``open_other_channels``, else it is refused."""
        self._check_channel(mod, channel)
        rules = await self.storage.policy.channel_rules(mod.guild_id)
        last_allowed = tuple(rules.allowed) == (channel.channel_id,)
        if last_allowed and not open_other_channels:
            # An empty allow-list allows every channel: "deny" must not quietly mean "open the rest".
            raise ModerationRefused.keyed("admin.refused.last_allowed", channel=f"<#{channel.channel_id}>")
        change = await self.storage.policy.deny_channel(
            mod.guild_id, channel.channel_id, actor_id=mod.actor_id, now=self._clock()
        )
        outcome = ChannelOutcome.LAST_ALLOWED_DENIED if last_allowed else ChannelOutcome.DENIED
        return ChannelChange(change, outcome)

    # ------------------------------------------------------------------------------ policy

    async def policy(self, mod: Moderator, edit: PolicyEdit) -> PolicyUpdate | PolicyView:
        """Change the parts of the policy the moderator named, or (none named) show it."""
        changes: dict[str, Any] = {}
        if edit.allowed_models is not None:
            changes["allowed_models"] = parse_models(edit.allowed_models)
        if edit.max_resolution is not None:
            changes["max_resolution"] = None if edit.max_resolution == "any" else edit.max_resolution
        if edit.max_duration is not None:
            changes["max_duration"] = None if edit.max_duration == "any" else int(edit.max_duration)
        if edit.results is not None:
            changes["results_public"] = edit.results == "public"
        role = edit.moderator_role
        if role is not None and edit.remove_moderator_role:
            raise ModerationRefused.keyed("admin.refused.role_both")
        if role is not None or edit.remove_moderator_role:
            if not mod.actor.manage_guild:
                raise ModerationRefused.keyed("admin.refused.role_manage")
            if role is not None:
                self._check_role(mod, role, purpose="the moderator role")
            changes["moderator_role_id"] = role.role_id if role is not None else None
        if edit.cap is not None:
            changes["cap_tenths"] = parse_cap(edit.cap, operator_tenths=self.guild_cap_maximum)
        if edit.threads is not None:
            changes["threads"] = {"on": True, "off": False}.get(edit.threads)
        if not changes:
            return PolicyView(mod.policy, await self.storage.limits.guild_default(mod.guild_id))
        self._check_videos_possible(mod.policy, changes)
        with refusing_bad_values():
            change = await self.storage.policy.update(
                mod.guild_id,
                actor_id=mod.actor_id,
                now=self._clock(),
                allowed_models=changes.get("allowed_models", UNSET),
                max_resolution=changes.get("max_resolution", UNSET),
                max_duration=changes.get("max_duration", UNSET),
                results_public=changes.get("results_public", UNSET),
                moderator_role_id=changes.get("moderator_role_id", UNSET),
                cap_tenths=changes.get("cap_tenths", UNSET),
                threads=changes.get("threads", UNSET),
            )
        self._policy_changed(mod.guild_id)
        cap_period = None
        if changes.get("cap_tenths") is not None:
            default = await self.storage.limits.guild_default(mod.guild_id)
            cap_period = default.period if default is not None else self.settings.default_quota_period
        return PolicyUpdate(change, cap_period)

    @staticmethod
    def _check_videos_possible(current: GuildPolicy, changes: dict[str, Any]) -> None:
        models = changes.get("allowed_models", current.allowed_models)
        resolution = changes.get("max_resolution", current.max_resolution)
        duration = changes.get("max_duration", current.max_duration)
        if possible_videos(models, resolution, duration) == 0:
            raise ModerationRefused.keyed("admin.refused.no_video")
