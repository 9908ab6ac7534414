"""The one object the bot holds: a database and its repositories, opened and closed together.

A second backend (PostgreSQL) would provide an object with these same attributes and methods.
"""

from __future__ import annotations

from pathlib import Path

from storage.audit import AuditRepository
from storage.bot_state import StateRepository
from storage.db import Database
from storage.limits import LimitsRepository
from storage.policy import PolicyRepository
from storage.prefs import PrefsRepository
from storage.quota import QuotaDefaults, QuotaRepository
from storage.retention import RetentionRepository
from storage.showcase import ShowcaseRepository
from storage.tasks import TaskRepository


class Storage:
    def __init__(self, db: Database, defaults: QuotaDefaults | None = None) -> None:
        self.db = db
        self.tasks = TaskRepository(db)
        self.quota = QuotaRepository(db, defaults)
        self.limits = LimitsRepository(db)
        self.policy = PolicyRepository(db)
        self.prefs = PrefsRepository(db)
        self.audit = AuditRepository(db)
        self.state = StateRepository(db)
        self.retention = RetentionRepository(db)
        self.showcase = ShowcaseRepository(db)

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        default_limit_tenths: int = 50,
        default_period: str = "day",
        busy_timeout_ms: int = 10_000,
    ) -> Storage:
        """Open and migrate the database; the defaults are the operator's quota for guilds without one."""
        defaults = QuotaDefaults(default_limit_tenths, default_period)
        db = await Database.open(path, busy_timeout_ms=busy_timeout_ms)
        return cls(db, defaults)

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> None:
        """One trivial query: raises when the database cannot answer (closed, locked for too long)."""
        await self.db.schema_version()

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
