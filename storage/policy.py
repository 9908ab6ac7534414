"""A guild's policy (models, maximum options, privacy, cap, pause), channel rules and prompt filters.

Like every moderator change, each write takes the actor and logs before → after in its own
transaction. Updates name only the fields they change, applied inside the transaction, so two
moderators editing different fields at once never undo each other.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from storage import audit
from storage.backend import Backend, Connection, Row, fetch_all, fetch_int, fetch_one, insert, upsert_sql
from storage.checks import (
    MAX_NAME_CHARS,
    MAX_PATTERN_CHARS,
    MAX_REASON_CHARS,
    optional_int,
    optional_text,
    regex,
    tenths,
    text,
)
from storage.errors import InvalidValue
from storage.models import Change, ChannelRules, GuildPolicy, PromptFilter
from storage.periods import now_or

MAX_ALLOWED_MODELS = 50
MAX_FILTERS_PER_GUILD = 200
MAX_DURATION_SECONDS = 3600


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET: Final = _Unset.UNSET

_POLICY_COLUMNS = (
    "allowed_models, max_resolution, max_duration, results_public, moderator_role_id, cap_tenths, "
    "paused, pause_reason, threads"
)


def _policy(row: Row | None) -> GuildPolicy:
    if row is None:
        return GuildPolicy()
    models = json.loads(row["allowed_models"])
    return GuildPolicy(
        allowed_models=tuple(str(m) for m in models),
        max_resolution=row["max_resolution"],
        max_duration=row["max_duration"],
        results_public=bool(row["results_public"]),
        moderator_role_id=row["moderator_role_id"],
        cap_tenths=row["cap_tenths"],
        paused=bool(row["paused"]),
        pause_reason=row["pause_reason"],
        threads=None if row["threads"] is None else bool(row["threads"]),
    )


async def policy_in(conn: Connection, guild_id: int) -> GuildPolicy:
    row = await fetch_one(conn, f"SELECT {_POLICY_COLUMNS} FROM guild_policy WHERE guild_id = ?", (guild_id,))
    return _policy(row)


async def _store_policy(conn: Connection, guild_id: int, policy: GuildPolicy) -> None:
    await conn.execute(
        upsert_sql("guild_policy", ("guild_id",), _POLICY_COLUMNS.split(", ")),
        (
            guild_id,
            json.dumps(list(policy.allowed_models)),
            policy.max_resolution,
            policy.max_duration,
            int(policy.results_public),
            policy.moderator_role_id,
            policy.cap_tenths,
            int(policy.paused),
            policy.pause_reason,
            None if policy.threads is None else int(policy.threads),
        ),
    )


def _models(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise InvalidValue("allowed_models", "must be a list of model names, not one string.")
    names = tuple(dict.fromkeys(text("model name", m, MAX_NAME_CHARS).strip() for m in value))
    if len(names) > MAX_ALLOWED_MODELS:
        raise InvalidValue("allowed_models", f"may list at most {MAX_ALLOWED_MODELS} models.")
    return names


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(name, f"must be true or false (got {value!r}).")
    return value


def _rule(row: Row | None) -> bool | None:
    return None if row is None else bool(row["allowed"])


def _filter(row: Row) -> PromptFilter:
    return PromptFilter(
        row["id"], row["pattern"], bool(row["is_regex"]), row["created_by"], row["created_at"]
    )


class PolicyRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    # -- policy ----------------------------------------------------------------------------------

    async def get(self, guild_id: int) -> GuildPolicy:
        """The guild's policy, or the defaults (everything allowed, public results) if never set."""
        async with self._db.read() as conn:
            return await policy_in(conn, guild_id)

    async def update(
        self,
        guild_id: int,
        *,
        actor_id: int,
        now: float | None = None,
        allowed_models: Sequence[str] | _Unset = UNSET,
        max_resolution: str | _Unset | None = UNSET,
        max_duration: int | _Unset | None = UNSET,
        results_public: bool | _Unset = UNSET,
        moderator_role_id: int | _Unset | None = UNSET,
        cap_tenths: int | _Unset | None = UNSET,
        threads: bool | _Unset | None = UNSET,
    ) -> Change[GuildPolicy]:
        """Change the named fields only; pass ``None`` to lift a maximum, the role or the cap (or to
        give ``threads`` back to the bot's default)."""
        changes: dict[str, Any] = {}
        if allowed_models is not UNSET:
            changes["allowed_models"] = _models(allowed_models)
        if max_resolution is not UNSET:
            changes["max_resolution"] = optional_text("max_resolution", max_resolution, MAX_NAME_CHARS)
        if max_duration is not UNSET:
            changes["max_duration"] = optional_int(
                "max_duration", max_duration, minimum=1, maximum=MAX_DURATION_SECONDS
            )
        if results_public is not UNSET:
            changes["results_public"] = _flag("results_public", results_public)
        if moderator_role_id is not UNSET:
            changes["moderator_role_id"] = optional_int("moderator_role_id", moderator_role_id)
        if cap_tenths is not UNSET:
            changes["cap_tenths"] = None if cap_tenths is None else tenths("cap", cap_tenths)
        if threads is not UNSET:
            changes["threads"] = None if threads is None else _flag("threads", threads)
        return await self._change(guild_id, changes, actor_id=actor_id, action="policy.update", now=now)

    async def pause(
        self, guild_id: int, reason: str | None = None, *, actor_id: int, now: float | None = None
    ) -> Change[GuildPolicy]:
        """Stop new generations here; queued tasks wait and running ones finish (the caller's job)."""
        changes = {"paused": True, "pause_reason": optional_text("reason", reason, MAX_REASON_CHARS)}
        return await self._change(guild_id, changes, actor_id=actor_id, action="pause", now=now)

    async def resume(self, guild_id: int, *, actor_id: int, now: float | None = None) -> Change[GuildPolicy]:
        changes = {"paused": False, "pause_reason": None}
        return await self._change(guild_id, changes, actor_id=actor_id, action="resume", now=now)

    async def _change(
        self, guild_id: int, changes: dict[str, Any], *, actor_id: int, action: str, now: float | None
    ) -> Change[GuildPolicy]:
        async with self._db.transaction() as conn:
            before = await policy_in(conn, guild_id)
            after = replace(before, **changes)
            if after != before:
                await _store_policy(conn, guild_id, after)
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action=action,
                target="guild",
                before=before,
                after=after,
                now=now_or(now),
            )

    # -- channels --------------------------------------------------------------------------------

    async def channel_rules(self, guild_id: int) -> ChannelRules:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT channel_id, allowed FROM channel_rules WHERE guild_id = ? ORDER BY channel_id",
                (guild_id,),
            )
        return ChannelRules(
            allowed=tuple(r["channel_id"] for r in rows if r["allowed"]),
            denied=tuple(r["channel_id"] for r in rows if not r["allowed"]),
        )

    async def channel_allowed(self, guild_id: int, channel_id: int) -> bool:
        async with self._db.snapshot() as conn:
            rule = _rule(
                await fetch_one(
                    conn,
                    "SELECT allowed FROM channel_rules WHERE guild_id = ? AND channel_id = ?",
                    (guild_id, channel_id),
                )
            )
            if rule is not None:
                return rule
            any_allowed = await fetch_one(
                conn, "SELECT 1 FROM channel_rules WHERE guild_id = ? AND allowed = 1 LIMIT 1", (guild_id,)
            )
        return any_allowed is None

    async def allow_channel(
        self, guild_id: int, channel_id: int, *, actor_id: int, now: float | None = None
    ) -> Change[bool]:
        """Put the channel on the allow-list (once any channel is on it, only those are allowed)."""
        return await self._set_rule(guild_id, channel_id, True, actor_id=actor_id, now=now)

    async def deny_channel(
        self, guild_id: int, channel_id: int, *, actor_id: int, now: float | None = None
    ) -> Change[bool]:
        """Refuse ``/video`` in this channel, whatever the allow-list says."""
        return await self._set_rule(guild_id, channel_id, False, actor_id=actor_id, now=now)

    async def clear_channel(
        self, guild_id: int, channel_id: int, *, actor_id: int, now: float | None = None
    ) -> Change[bool]:
        """Forget the channel's rule: it follows the allow-list again."""
        return await self._set_rule(guild_id, channel_id, None, actor_id=actor_id, now=now)

    async def _set_rule(
        self, guild_id: int, channel_id: int, allowed: bool | None, *, actor_id: int, now: float | None
    ) -> Change[bool]:
        action = {True: "channel.allow", False: "channel.deny", None: "channel.clear"}[allowed]
        async with self._db.transaction() as conn:
            before = _rule(
                await fetch_one(
                    conn,
                    "SELECT allowed FROM channel_rules WHERE guild_id = ? AND channel_id = ?",
                    (guild_id, channel_id),
                )
            )
            if allowed is None:
                await conn.execute(
                    "DELETE FROM channel_rules WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
                )
            else:
                await conn.execute(
                    upsert_sql("channel_rules", ("guild_id", "channel_id"), ("allowed",)),
                    (guild_id, channel_id, int(allowed)),
                )
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action=action,
                target=f"channel:{channel_id}",
                before=before,
                after=allowed,
                now=now_or(now),
            )

    # -- prompt filters --------------------------------------------------------------------------

    async def filters(self, guild_id: int) -> list[PromptFilter]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT id, pattern, is_regex, created_by, created_at FROM prompt_filters "
                "WHERE guild_id = ? ORDER BY id",
                (guild_id,),
            )
        return [_filter(r) for r in rows]

    async def add_filter(
        self, guild_id: int, pattern: str, *, is_regex: bool = False, actor_id: int, now: float | None = None
    ) -> Change[PromptFilter]:
        """Store a word/phrase or a regular expression; matching (normalised, case-insensitive) is
        the caller's, so the rule for "what counts as a match" lives in one place."""
        pattern = text("pattern", pattern.strip() if isinstance(pattern, str) else pattern, MAX_PATTERN_CHARS)
        if _flag("is_regex", is_regex):
            regex(pattern)
        moment = now_or(now)
        async with self._db.transaction() as conn:
            existing = await fetch_one(
                conn,
                "SELECT id, pattern, is_regex, created_by, created_at FROM prompt_filters "
                "WHERE guild_id = ? AND pattern = ? AND is_regex = ?",
                (guild_id, pattern, int(is_regex)),
            )
            if existing is not None:
                return Change(_filter(existing), _filter(existing), None)
            entries = await fetch_int(
                conn, "SELECT COUNT(*) FROM prompt_filters WHERE guild_id = ?", (guild_id,)
            )
            if entries >= MAX_FILTERS_PER_GUILD:
                # Every entry is matched against every prompt: the list must stay short to stay fast.
                full = f"list is full ({MAX_FILTERS_PER_GUILD} entries): remove one before adding more."
                raise InvalidValue("filter", full)
            filter_id = await insert(
                conn,
                "INSERT INTO prompt_filters (guild_id, pattern, is_regex, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (guild_id, pattern, int(is_regex), actor_id, moment),
            )
            after = PromptFilter(filter_id, pattern, is_regex, actor_id, moment)
            return await audit.record_change(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action="filter.add",
                target=f"filter:{after.id}",
                before=None,
                after=after,
                now=moment,
            )

    async def remove_filter(
        self, guild_id: int, filter_ref: int | str, *, actor_id: int, now: float | None = None
    ) -> Change[PromptFilter]:
        """Remove by id, or by exact pattern (every flavour of it)."""
        column = "pattern" if isinstance(filter_ref, str) else "id"
        ref = filter_ref.strip() if isinstance(filter_ref, str) else filter_ref
        async with self._db.transaction() as conn:
            rows = await fetch_all(
                conn,
                "SELECT id, pattern, is_regex, created_by, created_at FROM prompt_filters "
                f"WHERE guild_id = ? AND {column} = ? ORDER BY id",
                (guild_id, ref),
            )
            if not rows:
                return Change(None, None, None)
            await conn.execute(
                f"DELETE FROM prompt_filters WHERE guild_id = ? AND {column} = ?", (guild_id, ref)
            )
            removed = _filter(rows[0])
            change: Change[PromptFilter] = Change(None, None, None)
            for row in rows:
                change = await audit.record_change(
                    conn,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action="filter.remove",
                    target=f"filter:{row['id']}",
                    before=_filter(row),
                    after=None,
                    now=now_or(now),
                )
            return Change(removed, None, change.audit_id)
