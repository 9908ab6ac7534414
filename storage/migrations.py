"""The schema as an ordered list of steps; ``PRAGMA user_version`` records the last one applied.

Append new steps, never edit a released one: a file at version N is upgraded by running steps N+1…
in order, each in its own transaction together with the version bump, so a crash leaves the file at
a whole version. No ``CHECK`` on task states: adding a state must not need a table rebuild; the state
machine in :mod:`storage.states` is the gate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


_V1_TASKS_AND_LEDGER = (
    """
    CREATE TABLE tasks (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: buttons carry it
        guild_id          INTEGER,                            -- NULL in direct messages
        channel_id        INTEGER NOT NULL,
        user_id           INTEGER NOT NULL,
        status_message_id INTEGER,
        result_message_id INTEGER,
        prompt            TEXT    NOT NULL,
        model             TEXT    NOT NULL,
        mode              TEXT    NOT NULL,
        duration          INTEGER,
        resolution        TEXT,
        prompt_optimizer  INTEGER NOT NULL DEFAULT 1,
        fast_pretreatment INTEGER NOT NULL DEFAULT 0,
        first_frame_url   TEXT,
        last_frame_url    TEXT,
        subject_url       TEXT,
        cost_tenths       INTEGER NOT NULL CHECK (cost_tenths >= 0),
        api_task_id       TEXT,
        file_id           TEXT,
        state             TEXT    NOT NULL,
        api_status        TEXT,
        progress          INTEGER,
        error_code        TEXT,
        error_message     TEXT,
        attempts          INTEGER NOT NULL DEFAULT 0,
        created_at        REAL    NOT NULL,
        submitted_at      REAL,
        finished_at       REAL,
        next_poll_at      REAL
    )
    """,
    "CREATE UNIQUE INDEX tasks_api_task_id ON tasks(api_task_id) WHERE api_task_id IS NOT NULL",
    "CREATE INDEX tasks_due ON tasks(next_poll_at) WHERE state IN ('submitted', 'processing')",
    "CREATE INDEX tasks_unfinished ON tasks(state) WHERE state NOT IN ('delivered', 'failed', 'cancelled')",
    "CREATE INDEX tasks_user ON tasks(user_id, guild_id)",
    "CREATE INDEX tasks_guild ON tasks(guild_id)",
    "CREATE INDEX tasks_guild_created ON tasks(guild_id, created_at)",
    """
    CREATE INDEX tasks_generation_time ON tasks(model, resolution, duration, finished_at)
        WHERE state = 'delivered'
    """,
    """
    CREATE TABLE ledger (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        kind       TEXT    NOT NULL CHECK (kind IN ('reserve', 'charge', 'refund', 'grant')),
        guild_id   INTEGER,
        user_id    INTEGER NOT NULL,
        task_id    INTEGER REFERENCES tasks(id),
        tenths     INTEGER NOT NULL CHECK (tenths >= 0),
        created_at REAL    NOT NULL,
        CHECK ((kind = 'grant') = (task_id IS NULL))
    )
    """,
    # At most one reserve, one charge and one refund per task, whatever the code above does.
    "CREATE UNIQUE INDEX ledger_task_kind ON ledger(task_id, kind) WHERE task_id IS NOT NULL",
    "CREATE INDEX ledger_user ON ledger(user_id, guild_id, created_at)",
    "CREATE INDEX ledger_guild ON ledger(guild_id, created_at)",
)

_V2_MODERATION = (
    """
    CREATE TABLE guild_limits (
        guild_id      INTEGER PRIMARY KEY,
        credits_tenths INTEGER NOT NULL CHECK (credits_tenths >= 0),
        period        TEXT    NOT NULL
    )
    """,
    """
    CREATE TABLE role_limits (
        guild_id       INTEGER NOT NULL,
        role_id        INTEGER NOT NULL,
        credits_tenths INTEGER NOT NULL CHECK (credits_tenths >= 0),
        PRIMARY KEY (guild_id, role_id)
    )
    """,
    """
    CREATE TABLE user_overrides (
        guild_id       INTEGER NOT NULL,
        user_id        INTEGER NOT NULL,
        credits_tenths INTEGER NOT NULL CHECK (credits_tenths >= 0),
        period         TEXT,
        PRIMARY KEY (guild_id, user_id)
    )
    """,
    """
    CREATE TABLE blocks (
        guild_id   INTEGER NOT NULL,
        user_id    INTEGER NOT NULL,
        reason     TEXT,
        blocked_by INTEGER NOT NULL,
        created_at REAL    NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    )
    """,
    """
    CREATE TABLE channel_rules (
        guild_id   INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        allowed    INTEGER NOT NULL,  -- 1: on the allow-list, 0: explicitly denied
        PRIMARY KEY (guild_id, channel_id)
    )
    """,
    """
    CREATE TABLE prompt_filters (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        guild_id   INTEGER NOT NULL,
        pattern    TEXT    NOT NULL,
        is_regex   INTEGER NOT NULL,
        created_by INTEGER NOT NULL,
        created_at REAL    NOT NULL,
        UNIQUE (guild_id, pattern, is_regex)
    )
    """,
    """
    CREATE TABLE guild_policy (
        guild_id          INTEGER PRIMARY KEY,
        allowed_models    TEXT    NOT NULL DEFAULT '[]',  -- JSON array; empty = every model
        max_resolution    TEXT,
        max_duration      INTEGER,
        results_public    INTEGER NOT NULL DEFAULT 1,
        moderator_role_id INTEGER,
        cap_tenths        INTEGER CHECK (cap_tenths >= 0),
        paused            INTEGER NOT NULL DEFAULT 0,
        pause_reason      TEXT
    )
    """,
    """
    CREATE TABLE audit_log (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        guild_id       INTEGER NOT NULL,
        actor_id       INTEGER NOT NULL,
        action         TEXT    NOT NULL,
        target         TEXT    NOT NULL,
        target_user_id INTEGER,
        before         TEXT,  -- JSON object or NULL
        after          TEXT,
        created_at     REAL    NOT NULL
    )
    """,
    "CREATE INDEX audit_guild ON audit_log(guild_id, id)",
    "CREATE INDEX audit_target_user ON audit_log(guild_id, target_user_id, id)",
    "CREATE INDEX audit_actor ON audit_log(guild_id, actor_id, id)",
    """
    CREATE TABLE user_prefs (
        user_id          INTEGER PRIMARY KEY,
        model            TEXT,
        resolution       TEXT,
        duration         INTEGER,
        prompt_optimizer INTEGER,
        dm_results       INTEGER NOT NULL DEFAULT 0
    )
    """,
    # Delivery options and result facts, added to tasks recorded by version 1 with safe defaults.
    "ALTER TABLE tasks ADD COLUMN deliver_by_dm INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN regenerated_from INTEGER REFERENCES tasks(id)",
    "ALTER TABLE tasks ADD COLUMN width INTEGER",
    "ALTER TABLE tasks ADD COLUMN height INTEGER",
    "ALTER TABLE tasks ADD COLUMN video_bytes INTEGER",
)

_V3_RECENTLY_FINISHED = (
    # A restart re-renders the cards of tasks finished in the last minutes (``recently_finished``):
    # without this index that read scanned every task ever made. Its WHERE must stay word for word
    # the query's, or SQLite will not use it.
    """
    CREATE INDEX tasks_finished ON tasks(finished_at)
        WHERE state IN ('delivered', 'failed', 'cancelled')
    """,
)

_V4_BOT_STATE = (
    # Small facts about the bot itself that must survive a restart (an account pause and its end),
    # one row per key; values are short text (JSON) the owning component reads back.
    """
    CREATE TABLE bot_state (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at REAL NOT NULL
    )
    """,
)

_V5_FAILURE_NOTICES = (
    # A failure is saved (and refunded) before the member is told; this records the telling, so a
    # crash in between is repaired at the next start. Failures from before this version count as told.
    "ALTER TABLE tasks ADD COLUMN notified_at REAL",
    "UPDATE tasks SET notified_at = COALESCE(finished_at, created_at) WHERE state IN ('failed', 'unknown')",
    # Usually empty: only failures whose notice is still owed. WHERE word for word as ``unnotified``.
    """
    CREATE INDEX tasks_unnotified ON tasks(id)
        WHERE notified_at IS NULL AND state IN ('failed', 'unknown')
    """,
)

_V6_RATIO = (
    # The aspect ratio a member chose (NULL: the model's own), an option of the video spec.
    "ALTER TABLE tasks ADD COLUMN ratio TEXT",
)

_V7_REFERENCES_AND_RESULTS = (
    # Reference media (MiniMax-H3), several per task: a JSON list of {"role", "kind", "url"}; NULL
    # when there are none. Keyframes keep their own ``<role>_url`` columns.
    "ALTER TABLE tasks ADD COLUMN reference_media TEXT",
    # What was delivered, next to what was asked (``duration``): H3 clips run a little longer.
    "ALTER TABLE tasks ADD COLUMN delivered_seconds REAL",
    # Whether the delivered file has a sound track (NULL: not known, as for tasks from before).
    "ALTER TABLE tasks ADD COLUMN has_audio INTEGER",
)

_V8_BOT_SPENDING = (
    # The bot-wide spending ceiling sums every reservation of the period inside each reservation's
    # transaction: without this index that read scanned the whole ledger, which only grows.
    "CREATE INDEX ledger_reserve_created ON ledger(created_at) WHERE kind = 'reserve'",
)

_V9_UPLOAD_LIMIT = (
    # The largest file Discord said the bot may upload where the task was asked for (the
    # interaction's attachment_size_limit), in bytes; NULL for tasks from before (the guild's
    # reported limit then applies).
    "ALTER TABLE tasks ADD COLUMN upload_limit INTEGER",
)

_V10_EDITS = (
    # A task made from another's result (Remix, later Extend and Loop): which one, how, and what its
    # card links to (the original's author and result message, as they were at request time).
    "ALTER TABLE tasks ADD COLUMN edit_of INTEGER REFERENCES tasks(id)",
    "ALTER TABLE tasks ADD COLUMN edit_kind TEXT",
    "ALTER TABLE tasks ADD COLUMN edit_of_user_id INTEGER",
    "ALTER TABLE tasks ADD COLUMN edit_of_message_id INTEGER",
)

_V11_SHOWCASE = (
    # The server's showcase: one channel (text or forum) where members share delivered videos.
    """
    CREATE TABLE showcases (
        guild_id   INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL,
        is_forum   INTEGER NOT NULL,
        set_by     INTEGER NOT NULL,
        set_at     REAL    NOT NULL
    )
    """,
    # One row per shared video (the primary key makes "once per video" a fact of the file). The row
    # is written before the post (``message_id`` NULL: a claim), so two clicks at once post once.
    """
    CREATE TABLE showcase_posts (
        task_id    INTEGER PRIMARY KEY REFERENCES tasks(id),
        guild_id   INTEGER NOT NULL,
        channel_id INTEGER,            -- where the post is (a forum post's thread); NULL while claimed
        message_id INTEGER,
        shared_by  INTEGER NOT NULL,
        shared_at  REAL    NOT NULL,
        removed_by INTEGER,
        removed_at REAL                -- a moderator took it down: it stays down, votes stop counting
    )
    """,
    "CREATE INDEX showcase_posts_guild ON showcase_posts(guild_id, shared_at)",
    """
    CREATE TABLE showcase_votes (
        task_id  INTEGER NOT NULL REFERENCES showcase_posts(task_id),
        user_id  INTEGER NOT NULL,
        voted_at REAL    NOT NULL,
        PRIMARY KEY (task_id, user_id)  -- one vote per member and video
    )
    """,
)

_V12_THREADS = (
    # A server's choice of a thread per video: 1 on, 0 off, NULL the bot's THREAD_PER_VIDEO.
    "ALTER TABLE guild_policy ADD COLUMN threads INTEGER",
    # The thread opened on the task's status card, where its result and failures go.
    "ALTER TABLE tasks ADD COLUMN thread_id INTEGER",
)

_V13_POOLS = (
    # Team credit pools: a guild's shared allowance per period, for members with a role and/or in
    # a channel. A deleted pool keeps its row (``deleted_at``): its tasks and ledger rows name it,
    # and a pool of the same name may be made again (unique only among the pools not deleted).
    """
    CREATE TABLE pools (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        guild_id       INTEGER NOT NULL,
        name           TEXT    NOT NULL,
        credits_tenths INTEGER NOT NULL CHECK (credits_tenths >= 0),
        period         TEXT    NOT NULL,
        role_id        INTEGER,
        channel_id     INTEGER,
        created_by     INTEGER NOT NULL,
        created_at     REAL    NOT NULL,
        deleted_at     REAL,
        CHECK (role_id IS NOT NULL OR channel_id IS NOT NULL)
    )
    """,
    "CREATE UNIQUE INDEX pools_guild_name ON pools(guild_id, name) WHERE deleted_at IS NULL",
    # The pool a reservation was taken from (NULL: the member's own credits). Its charge or refund
    # copies the reserve row, pool included, so a settlement after a restart goes where it came from.
    "ALTER TABLE ledger ADD COLUMN pool_id INTEGER REFERENCES pools(id)",
    "CREATE INDEX ledger_pool ON ledger(pool_id, created_at) WHERE kind = 'reserve'",
    # Which pool paid, and its name then (the card names it without a lookup).
    "ALTER TABLE tasks ADD COLUMN pool_id INTEGER REFERENCES pools(id)",
    "ALTER TABLE tasks ADD COLUMN pool_name TEXT",
    # A member's default pool in a server (/video settings pool:); their own choice, not audited.
    """
    CREATE TABLE pool_defaults (
        guild_id INTEGER NOT NULL,
        user_id  INTEGER NOT NULL,
        pool_id  INTEGER NOT NULL REFERENCES pools(id),
        PRIMARY KEY (guild_id, user_id)
    )
    """,
)

_V14_JOINS = (
    # An Extend or Loop: whether its result is the original and the new clip joined ('joined') or
    # the new clip alone ('alone': the join failed). Written before the result is posted, so a
    # restart mid-delivery posts what was decided, once.
    "ALTER TABLE tasks ADD COLUMN join_state TEXT",
)

_V15_LEASES = (
    # Which process works on a task (any process of several sharing one PostgreSQL database) and
    # until when: the owner renews it while alive, and another takes the task over once it expires.
    # NULL: nobody (a queued task waiting in the shared queue, or a task from before this step).
    "ALTER TABLE tasks ADD COLUMN lease_owner TEXT",
    "ALTER TABLE tasks ADD COLUMN lease_until REAL",
    "CREATE INDEX tasks_lease ON tasks(lease_owner, lease_until) "
    "WHERE state NOT IN ('delivered', 'failed', 'cancelled')",
    # The account's limits, shared by every process: a token bucket or a penalty per name
    # (``tokens``/``stamp`` unused by a sliding window), and a sliding window's recent stamps.
    """
    CREATE TABLE rate_limits (
        name          TEXT PRIMARY KEY,
        tokens        REAL NOT NULL,
        stamp         REAL NOT NULL,
        blocked_until REAL NOT NULL
    )
    """,
    """
    CREATE TABLE rate_stamps (
        name TEXT NOT NULL,
        at   REAL NOT NULL
    )
    """,
    "CREATE INDEX rate_stamps_name_at ON rate_stamps(name, at)",
    # A job only one process may run at a time (the start-up repair of owed notices): who, until when.
    """
    CREATE TABLE job_leases (
        name  TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        until REAL NOT NULL
    )
    """,
)

_V16_GROUPS = (
    # ``/video generate variations:N``: N takes reserved together. ``group_id`` is the first take's
    # id (on every take, the first included; NULL: a task alone), ``take`` its number (1…N) and
    # ``takes`` N. ``group_posted_at`` (on the first take) is when the group's one reply was recorded
    # as posted, so a restart posts it once.
    "ALTER TABLE tasks ADD COLUMN group_id INTEGER",
    "ALTER TABLE tasks ADD COLUMN take INTEGER",
    "ALTER TABLE tasks ADD COLUMN takes INTEGER",
    "ALTER TABLE tasks ADD COLUMN group_posted_at REAL",
    "CREATE INDEX tasks_group ON tasks(group_id) WHERE group_id IS NOT NULL",
)

_V17_LOCALE = (
    # The requester's Discord locale at request time (``ja``, ``pt-BR``…): what is sent to them
    # alone from the background (a result or a failure by DM) is in their language. NULL: a task
    # from before this step, or asked without one: English.
    "ALTER TABLE tasks ADD COLUMN locale TEXT",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tasks and quota ledger", _V1_TASKS_AND_LEDGER),
    Migration(2, "moderation: limits, policy, channels, filters, audit, prefs", _V2_MODERATION),
    Migration(3, "index of finished tasks by finish time", _V3_RECENTLY_FINISHED),
    Migration(4, "bot state: key-value facts that survive a restart", _V4_BOT_STATE),
    Migration(5, "failure notices: when the member was told", _V5_FAILURE_NOTICES),
    Migration(6, "tasks: the aspect ratio option", _V6_RATIO),
    Migration(7, "tasks: reference media, delivered duration and sound", _V7_REFERENCES_AND_RESULTS),
    Migration(8, "index of reservations by time, for the bot-wide spending ceiling", _V8_BOT_SPENDING),
    Migration(9, "tasks: the upload limit at request time", _V9_UPLOAD_LIMIT),
    Migration(10, "tasks: made from another task's result (remix, extend, loop)", _V10_EDITS),
    Migration(11, "showcase: the channel, shared videos and their votes", _V11_SHOWCASE),
    Migration(12, "threads: a server's choice and each task's thread", _V12_THREADS),
    Migration(13, "pools: team credit pools and the pool each task is paid from", _V13_POOLS),
    Migration(14, "tasks: how an extend or loop was joined", _V14_JOINS),
    Migration(15, "leases: which process works on a task, and the limits they share", _V15_LEASES),
    Migration(16, "tasks: the group of takes a request reserved together", _V16_GROUPS),
    Migration(17, "tasks: the requester's language", _V17_LOCALE),
)

LATEST_VERSION = MIGRATIONS[-1].version

assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1)), "versions must be 1..N"
