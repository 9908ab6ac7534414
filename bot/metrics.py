"""The bot's Prometheus metrics: one registry per bot, its metric objects, one small method per event.

The places that see an event (the tree, admission, the API client, the card updater, delivery, the
Discord notifier) call a method here; nothing else knows about Prometheus. Each bot builds its own
:class:`Metrics` (its own ``CollectorRegistry``, not the library's global one), so two bots in one
test process, or two tests, never add to each other's counts.

Labels take values from small fixed sets only (command names, refusal reasons, endpoint paths with
the task id left out, HTTP status codes, error class names, task states): never a member, server,
channel or task id, which would make a series per member and say who did what.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE_LATEST
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from storage.states import TaskState

# No ``*_created`` series (a timestamp per label set): they double the output and say nothing a
# dashboard uses. The switch is the library's, process-wide; this bot is the process.
disable_created_metrics()  # type: ignore[no-untyped-call]

# From a few seconds (a small file, a quiet channel) to the delivery's retries with their backoff.
DELIVERY_BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# Discord operations the notifier reports failures of (the ``operation`` label).
DISCORD_OPERATIONS = frozenset(
    {
        "post_status",
        "edit_status",
        "followup",
        "post_result",
        "open_dm",
        "post_pickup",
        "post_failure",
        "read_history",
        "fetch_channel",
        "fetch_guild",
    }
)
CARD_EDIT_RESULTS = frozenset({"edited", "reposted", "failed"})


class Metrics:
    """Every metric the bot exports, in :attr:`registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._commands = Counter(
            "videobot_commands",
            "Application commands (slash commands and context menus) invoked, by command name.",
            ["command"],
            registry=registry,
        )
        self._refusals = Counter(
            "videobot_refusals",
            "Video requests refused before anything was reserved, by reason.",
            ["reason"],
            registry=registry,
        )
        self._tasks = Gauge(
            "videobot_tasks",
            "Tasks in each state (counted from the database at each scrape).",
            ["state"],
            registry=registry,
        )
        self._api = Counter(
            "videobot_api_requests",
            "Requests to the video API (and its download URLs), by endpoint, HTTP status "
            "('none': no answer) and result ('ok' or the error's class).",
            ["endpoint", "code", "result"],
            registry=registry,
        )
        self._queue = Gauge(
            "videobot_queue_length", "Tasks waiting to be sent to the video API.", registry=registry
        )
        self._delivery = Histogram(
            "videobot_delivery_seconds",
            "Seconds from the video API reporting a video done to the video posted in Discord.",
            buckets=DELIVERY_BUCKETS,
            registry=registry,
        )
        self._card_edits = Counter(
            "videobot_card_edits",
            "Status-card edits sent, by result (edited, reposted: the card was gone, failed).",
            ["result"],
            registry=registry,
        )
        self._discord_errors = Counter(
            "videobot_discord_errors",
            "Discord API errors the bot caught, by operation and HTTP status.",
            ["operation", "status"],
            registry=registry,
        )
        for state in TaskState:
            self._tasks.labels(state=state.value).set(0)

    # ------------------------------------------------------------------------------ recording

    def command(self, name: str) -> None:
        self._commands.labels(command=name).inc()

    def refused(self, reason: enum.StrEnum) -> None:
        """``reason``: a :class:`~bot.lifecycle.refusal.RefusalReason` (an enum: never free text)."""
        self._refusals.labels(reason=reason.value).inc()

    def api_request(self, endpoint: str, code: int | None, result: str) -> None:
        self._api.labels(endpoint=endpoint, code="none" if code is None else str(code), result=result).inc()

    def delivered(self, seconds: float) -> None:
        self._delivery.observe(max(0.0, seconds))

    def card_edit(self, result: str) -> None:
        if result not in CARD_EDIT_RESULTS:
            raise ValueError(f"unknown card edit result {result!r}")
        self._card_edits.labels(result=result).inc()

    def discord_error(self, operation: str, status: int) -> None:
        if operation not in DISCORD_OPERATIONS:
            raise ValueError(f"unknown Discord operation {operation!r}")
        self._discord_errors.labels(operation=operation, status=str(status)).inc()

    def watch_queue(self, length: Callable[[], int]) -> None:
        """The queue gauge reads ``length()`` at each scrape (nothing to keep up to date)."""
        self._queue.set_function(lambda: float(length()))

    def set_task_counts(self, counts: Mapping[TaskState, int]) -> None:
        """Every state's count (a state missing from ``counts`` has none)."""
        for state in TaskState:
            self._tasks.labels(state=state.value).set(counts.get(state, 0))

    # ------------------------------------------------------------------------------ exposition

    def render(self) -> bytes:
        """The registry in Prometheus' text format (served with :data:`CONTENT_TYPE_LATEST`)."""
        return generate_latest(self.registry)
