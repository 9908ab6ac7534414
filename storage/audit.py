"""The audit log: every moderator change, written in the same transaction as the change itself,
so the log can never miss a change that happened nor record one that was rolled back."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from storage.backend import Backend, Connection, fetch_all, insert
from storage.checks import count
from storage.models import AuditEntry, Change, T
from storage.periods import now_or

Snapshot = Mapping[str, object] | None


def snapshot(value: object) -> Snapshot:
    """A dataclass (or mapping, or ``None``) as a JSON-ready dict for the log."""
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    return {"value": value}


def _dump(value: Snapshot) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _load(raw: str | None) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    loaded = json.loads(raw)
    return loaded if isinstance(loaded, dict) else {"value": loaded}


async def record(
    conn: Connection,
    *,
    guild_id: int,
    actor_id: int,
    action: str,
    target: str,
    target_user_id: int | None = None,
    before: object = None,
    after: object = None,
    now: float,
) -> int:
    """Append one entry inside the caller's transaction; returns its id."""
    return await insert(
        conn,
        "INSERT INTO audit_log (guild_id, actor_id, action, target, target_user_id, before, after, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            guild_id,
            actor_id,
            action,
            target,
            target_user_id,
            _dump(snapshot(before)),
            _dump(snapshot(after)),
            now,
        ),
    )


async def record_change(
    conn: Connection,
    *,
    guild_id: int,
    actor_id: int,
    action: str,
    target: str,
    target_user_id: int | None = None,
    before: T | None,
    after: T | None,
    now: float,
) -> Change[T]:
    """Log a moderator's change unless it changed nothing; either way say what it did."""
    if before == after:
        return Change(before, after, None)
    audit_id = await record(
        conn,
        guild_id=guild_id,
        actor_id=actor_id,
        action=action,
        target=target,
        target_user_id=target_user_id,
        before=before,
        after=after,
        now=now,
    )
    return Change(before, after, audit_id)


class AuditRepository:
    def __init__(self, db: Backend) -> None:
        self._db = db

    async def list(
        self,
        guild_id: int,
        *,
        target_user: int | None = None,
        actor: int | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """Newest first; filter by the member acted upon and/or the moderator who acted."""
        count("limit", limit, minimum=1, maximum=1000)
        count("offset", offset)
        where, params = self._where(guild_id, target_user, actor)
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT id, guild_id, actor_id, action, target, target_user_id, before, after, created_at "
                f"FROM audit_log WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
        return [
            AuditEntry(
                id=r["id"],
                guild_id=r["guild_id"],
                actor_id=r["actor_id"],
                action=r["action"],
                target=r["target"],
                target_user_id=r["target_user_id"],
                before=_load(r["before"]),
                after=_load(r["after"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]

    async def note(
        self,
        guild_id: int,
        *,
        actor_id: int,
        action: str,
        target: str,
        before: object = None,
        after: object = None,
        now: float | None = None,
    ) -> int:
        """Log a moderator's action whose effect lives outside these tables (the bot-wide account
        pause, kept by the bot itself); changes stored here are logged inside their own transaction."""
        async with self._db.transaction() as conn:
            return await record(
                conn,
                guild_id=guild_id,
                actor_id=actor_id,
                action=action,
                target=target,
                before=before,
                after=after,
                now=now_or(now),
            )

    async def count(self, guild_id: int, *, target_user: int | None = None, actor: int | None = None) -> int:
        where, params = self._where(guild_id, target_user, actor)
        async with self._db.read() as conn:
            rows = await fetch_all(conn, f"SELECT COUNT(*) FROM audit_log WHERE {where}", params)
        return int(rows[0][0])

    @staticmethod
    def _where(guild_id: int, target_user: int | None, actor: int | None) -> tuple[str, tuple[int, ...]]:
        clauses, params = ["guild_id = ?"], [guild_id]
        if target_user is not None:
            clauses.append("target_user_id = ?")
            params.append(target_user)
        if actor is not None:
            clauses.append("actor_id = ?")
            params.append(actor)
        return " AND ".join(clauses), tuple(params)
