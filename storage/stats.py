"""Guild statistics for moderators, computed from the task table in one read snapshot.

Everything counts the tasks *requested* in ``[since, until)``, so the totals, the per-model rows
and the per-day rows of one report always add up to each other.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass

from storage.backend import Connection, fetch_all
from storage.checks import count
from storage.models import DailyModelCount, DeliveredCombo, GuildStats, ModelStats, UserSpend
from storage.periods import utc_day

DAY_SECONDS = 86_400


@dataclass
class _ModelTally:
    requested: int = 0
    delivered: int = 0
    failed: int = 0
    credits_tenths: int = 0


async def guild_stats(
    conn: Connection, guild_id: int, since: float, until: float, *, top: int = 10
) -> GuildStats:
    count("top", top, minimum=1, maximum=100)
    window = {"guild": guild_id, "since": since, "until": until}
    in_window = "guild_id = :guild AND created_at >= :since AND created_at < :until"

    by_state = await fetch_all(
        conn,
        f"SELECT model, state, error_code, COUNT(*) AS n, SUM(cost_tenths) AS cost FROM tasks "
        f"WHERE {in_window} GROUP BY model, state, error_code",
        window,
    )
    states: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    models: dict[str, _ModelTally] = {}
    charged = 0
    for row in by_state:
        n, state, tally = int(row["n"]), row["state"], models.setdefault(row["model"], _ModelTally())
        states[state] += n
        tally.requested += n
        if state == "delivered":
            tally.delivered += n
            tally.credits_tenths += int(row["cost"])
            charged += int(row["cost"])
        elif state == "failed":
            tally.failed += n
            reasons[row["error_code"] or "unknown"] += n

    # The UTC day number: SQLite's CAST truncates, PostgreSQL's rounds (so it floors instead).
    day = (
        f"CAST(created_at / {DAY_SECONDS} AS INTEGER)"
        if conn.dialect == "sqlite"
        else f"CAST(FLOOR(created_at / {DAY_SECONDS}) AS BIGINT)"
    )
    daily = await fetch_all(
        conn,
        f"""
        SELECT {day} AS day, model, COUNT(*) AS n,
               SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END) AS delivered,
               SUM(CASE WHEN state = 'delivered' THEN cost_tenths ELSE 0 END) AS cost
        FROM tasks WHERE {in_window} GROUP BY day, model ORDER BY day, model
        """,
        window,
    )
    durations = await fetch_all(
        conn,
        f"SELECT finished_at - submitted_at FROM tasks WHERE {in_window} AND state = 'delivered' "
        "AND submitted_at IS NOT NULL AND finished_at IS NOT NULL",
        window,
    )
    combos = await fetch_all(
        conn,
        f"SELECT model, resolution, duration, COUNT(*) AS n, SUM(cost_tenths) AS cost FROM tasks "
        f"WHERE {in_window} AND state = 'delivered' GROUP BY model, resolution, duration "
        "ORDER BY model, resolution, duration",
        window,
    )
    spenders = await fetch_all(
        conn,
        f"SELECT user_id, SUM(cost_tenths) AS cost, COUNT(*) AS n FROM tasks "
        f"WHERE {in_window} AND state = 'delivered' GROUP BY user_id ORDER BY cost DESC, user_id LIMIT :top",
        {**window, "top": top},
    )

    delivered, failed = states["delivered"], states["failed"]
    finished = delivered + failed
    return GuildStats(
        since=since,
        until=until,
        requested=sum(states.values()),
        delivered=delivered,
        failed=failed,
        cancelled=states["cancelled"],
        in_progress=sum(states.values()) - finished - states["cancelled"],
        failed_by_reason=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        credits_charged_tenths=charged,
        success_rate=delivered / finished if finished else None,
        median_generation_seconds=(
            float(statistics.median(float(r[0]) for r in durations)) if durations else None
        ),
        per_model=tuple(
            ModelStats(name, t.requested, t.delivered, t.failed, t.credits_tenths)
            for name, t in sorted(models.items())
        ),
        daily=tuple(
            DailyModelCount(
                utc_day(int(r["day"]) * DAY_SECONDS), r["model"], r["n"], r["delivered"], r["cost"]
            )
            for r in daily
        ),
        top_users=tuple(UserSpend(r["user_id"], r["cost"], r["n"]) for r in spenders),
        delivered_by_combo=tuple(
            DeliveredCombo(r["model"], r["resolution"], r["duration"], int(r["n"]), int(r["cost"]))
            for r in combos
        ),
    )
