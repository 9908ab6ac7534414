"""The one object the bot holds: a database and its repositories, opened and closed together.

The database behind it is SQLite (a file path) or PostgreSQL (a ``postgresql://`` URL); the
repositories are the same for both (:mod:`storage.backend`).
"""

from __future__ import annotations

from pathlib import Path

from storage.audit import AuditRepository
from storage.backend import Backend
from storage.bot_state import StateRepository
from storage.db import Database
from storage.leases import LeaseRepository
from storage.limits import LimitsRepository
from storage.pg import PgDatabase, is_postgres_url
from storage.policy import PolicyRepository
from storage.pools import PoolRepository
from storage.prefs import PrefsRepository
from storage.quota import QuotaDefaults, QuotaRepository
from storage.rates import RateRepository
from storage.retention import RetentionRepository
from storage.showcase import ShowcaseRepository
from storage.tasks import TaskRepository


class Storage:
    def __init__(self, db: Backend, defaults: QuotaDefaults | None = None) -> None:
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
        self.pools = PoolRepository(db)
        self.leases = LeaseRepository(db)
        self.rates = RateRepository(db)

    @classmethod
    async def open(
        cls,
        target: str | Path,
        *,
        default_limit_tenths: int = 50,
        default_period: str = "day",
        busy_timeout_ms: int = 10_000,
    ) -> Storage:
        """Open and migrate the database; the defaults are the operator's quota for guilds without one.

        ``target`` is a SQLite file path, or a ``postgresql://`` URL (``DATABASE_URL``).
        """
        defaults = QuotaDefaults(default_limit_tenths, default_period)
        db: Backend
        if is_postgres_url(target):
            db = await PgDatabase.open(str(target))
        else:
            db = await Database.open(target, busy_timeout_ms=busy_timeout_ms)
        return cls(db, defaults)

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> None:
        """One trivial query: raises when the database cannot answer (closed, locked for too long)."""
        await self.db.schema_version()

    @property
    def shared(self) -> bool:
        """Whether other processes may work on this database too (PostgreSQL; SQLite allows one)."""
        return self.db.dialect == "postgresql"

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
