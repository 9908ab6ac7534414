"""The bot's memory: tasks, the quota ledger, limits, policy, prefs and the audit log.

Repositories over SQLite (one ``aiosqlite`` connection, the default) or PostgreSQL (an ``asyncpg``
pool, when ``DATABASE_URL`` names one), through :mod:`storage.backend`; the bottom room, which
everything else builds on.
No Discord and no HTTP here: ids are ints, times are UTC epoch seconds, credits are integer tenths.
Open it once with ``await Storage.open(path_or_url)`` and close it with ``await storage.close()``.

May import only ``aiosqlite``, ``asyncpg``, itself, and :mod:`bot.spec` (the plain ``VideoSpec`` a
task stores, flattened to columns by :mod:`storage.spec_columns`): no ``discord``, no ``aiohttp``,
nothing else from ``bot/`` and nothing from ``cogs/`` (ruff TID251, storage/ruff.toml).
"""

from storage.audit import AuditRepository
from storage.bot_state import StateRepository
from storage.db import Database
from storage.errors import (
    DatabaseDamaged,
    DatabaseError,
    DatabaseUnavailable,
    GuildCapReached,
    GuildPaused,
    IllegalTransition,
    InvalidValue,
    LeaseLost,
    PoolExhausted,
    PoolNotUsable,
    QuotaExceeded,
    ReservationRefused,
    SchemaTooNew,
    SpendLimitReached,
    StorageError,
    TooManyInFlight,
    UnknownTask,
    UserBlocked,
)
from storage.facade import Storage
from storage.leases import EVERY_LEASE, LeaseRepository, OpenQueue, QueuedTask
from storage.limits import LimitsRepository
from storage.maintenance import DatabaseFacts, backup_database, inspect_database
from storage.migrations import LATEST_VERSION, MIGRATIONS
from storage.models import (
    AuditEntry,
    Block,
    BotSpend,
    Change,
    ChannelRules,
    DailyModelCount,
    DeliveredCombo,
    GuildDefault,
    GuildPolicy,
    GuildStats,
    GuildUsage,
    LedgerEntry,
    ModelStats,
    NewTask,
    Pool,
    PoolUsage,
    PromptFilter,
    RoleLimit,
    SpendCeiling,
    Task,
    Usage,
    UserOverride,
    UserPrefs,
    UserSpend,
)
from storage.periods import PERIODS, period_bounds
from storage.pg import redact as redact_database_url
from storage.policy import UNSET, PolicyRepository
from storage.pools import PoolAccess, PoolRepository
from storage.prefs import PrefsRepository
from storage.quota import QuotaDefaults, QuotaRepository
from storage.rates import RateRepository
from storage.retention import Forgotten, RetentionRepository
from storage.showcase import ClaimResult, Showcase, ShowcasePost, ShowcaseRepository, TopEntry, Vote
from storage.states import FINAL_STATES, TRANSITIONS, TaskState, can_transition
from storage.tasks import TaskRepository
from storage.transfer import CopyMismatch, CopyReport, TargetNotEmpty, copy_sqlite_to_postgres

__all__ = [
    "EVERY_LEASE",
    "FINAL_STATES",
    "LATEST_VERSION",
    "MIGRATIONS",
    "PERIODS",
    "TRANSITIONS",
    "UNSET",
    "AuditEntry",
    "AuditRepository",
    "Block",
    "BotSpend",
    "Change",
    "ChannelRules",
    "ClaimResult",
    "CopyMismatch",
    "CopyReport",
    "DailyModelCount",
    "Database",
    "DatabaseDamaged",
    "DatabaseError",
    "DatabaseFacts",
    "DatabaseUnavailable",
    "DeliveredCombo",
    "Forgotten",
    "GuildCapReached",
    "GuildDefault",
    "GuildPaused",
    "GuildPolicy",
    "GuildStats",
    "GuildUsage",
    "IllegalTransition",
    "InvalidValue",
    "LeaseLost",
    "LeaseRepository",
    "LedgerEntry",
    "LimitsRepository",
    "ModelStats",
    "NewTask",
    "OpenQueue",
    "PolicyRepository",
    "Pool",
    "PoolAccess",
    "PoolExhausted",
    "PoolNotUsable",
    "PoolRepository",
    "PoolUsage",
    "PrefsRepository",
    "PromptFilter",
    "QueuedTask",
    "QuotaDefaults",
    "QuotaExceeded",
    "QuotaRepository",
    "RateRepository",
    "ReservationRefused",
    "RetentionRepository",
    "RoleLimit",
    "SchemaTooNew",
    "Showcase",
    "ShowcasePost",
    "ShowcaseRepository",
    "SpendCeiling",
    "SpendLimitReached",
    "StateRepository",
    "Storage",
    "StorageError",
    "TargetNotEmpty",
    "Task",
    "TaskRepository",
    "TaskState",
    "TooManyInFlight",
    "TopEntry",
    "UnknownTask",
    "Usage",
    "UserBlocked",
    "UserOverride",
    "UserPrefs",
    "UserSpend",
    "Vote",
    "backup_database",
    "can_transition",
    "copy_sqlite_to_postgres",
    "inspect_database",
    "period_bounds",
    "redact_database_url",
]
