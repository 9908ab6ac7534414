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
from storage.instance_lock import DatabaseInUse
from storage.instance_lock import acquire as acquire_instance_lock
from storage.limits import LimitsRepository
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
from storage.prefs import PrefsRepository
from storage.quota import QuotaDefaults, QuotaRepository
from storage.states import FINAL_STATES, TRANSITIONS, TaskState, can_transition
from storage.tasks import TaskRepository
from storage.transfer import CopyMismatch, CopyReport, TargetNotEmpty, copy_sqlite_to_postgres

__all__ = [
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
    "CopyMismatch",
    "CopyReport",
    "DailyModelCount",
    "Database",
    "DatabaseDamaged",
    "DatabaseError",
    "DatabaseInUse",
    "DatabaseUnavailable",
    "DeliveredCombo",
    "GuildCapReached",
    "GuildDefault",
    "GuildPaused",
    "GuildPolicy",
    "GuildStats",
    "GuildUsage",
    "IllegalTransition",
    "InvalidValue",
    "LedgerEntry",
    "LimitsRepository",
    "ModelStats",
    "NewTask",
    "PolicyRepository",
    "PrefsRepository",
    "PromptFilter",
    "QuotaDefaults",
    "QuotaExceeded",
    "QuotaRepository",
    "ReservationRefused",
    "RoleLimit",
    "SchemaTooNew",
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
    "UnknownTask",
    "Usage",
    "UserBlocked",
    "UserOverride",
    "UserPrefs",
    "UserSpend",
    "acquire_instance_lock",
    "can_transition",
    "copy_sqlite_to_postgres",
    "period_bounds",
    "redact_database_url",
]
