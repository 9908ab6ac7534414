"""When to poll a task next, and when to tell the member it will be ready.

Pure arithmetic, kept apart from the poller so the policy can be read (and tested) on its own. The
schedule is derived from the task's generation-time distribution (:mod:`bot.lifecycle.estimate`:
the catalog's prior, taken over by what the bot has seen):

- the first query goes out when ``FIRST_QUANTILE`` (35 %) of such videos are done: nothing before
  it, since the early tail is where a query is most likely wasted;
- each later query goes out when ``HAZARD`` (half) of the videos *still running* at the last query
  would be done by then (a conditional quantile). Around the median, where most videos finish,
  that is dense; once 90 % would be done the task is late and the wait grows as a share of its
  running time (backing off);
- the API's progress, when given, can only lengthen a wait; errors back off exponentially;
- with push notifications on (``CALLBACK_URL``), polling is a slow safety net: the first query when
  99 % of such videos would be done, then every ``POLL_MAX_INTERVAL_SECONDS``; a push makes the
  task due at once (:mod:`bot.lifecycle.pushes`).

On a ±30 % spread this costs about two queries per video (the minimum is one). Every bound
(``POLL_MIN_INTERVAL_SECONDS``, ``POLL_MAX_INTERVAL_SECONDS``, the time-out) is a setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.backoff import backoff
from bot.config import Settings
from bot.lifecycle.estimate import FIRST_QUANTILE, GenerationTime
from storage.models import Task
from storage.states import TaskState

# Each later query: when this share of the videos still running at the last one would be done.
# Lower means more queries and less waiting. With the first query at the 35 % quantile, a belief that
# matches the videos costs 1 + 0.65 / HAZARD queries on average: 2.3 at one half.
HAZARD = 0.5
# Past this share of such videos done, a task is late: wait at least INTERVAL_SHARE of its running
# time between queries (and far past the distribution, where it says nothing, exactly that).
LATE_QUANTILE = 0.9
# With push notifications on, the first query waits until nearly every such video is done.
SAFETY_QUANTILE = 0.99
INTERVAL_SHARE = 0.15


@dataclass(frozen=True)
class PollTiming:
    first_delay: float | None  # POLL_FIRST_DELAY_SECONDS, when set (read by the estimate)
    min_interval: float
    max_interval: float
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> PollTiming:
        return cls(
            first_delay=settings.poll_first_delay,
            min_interval=settings.poll_min_interval,
            max_interval=settings.poll_max_interval,
            timeout=settings.task_timeout,
        )

    def timed_out(self, task: Task, *, now: float) -> bool:
        """The time-out rule: a task running (or waiting) this long since it was submitted (or
        queued, if never submitted) is given up. The poller fails such a task at its next query."""
        started = task.submitted_at if task.submitted_at is not None else task.created_at
        return now - started >= self.timeout

    def is_stuck(self, task: Task, *, now: float) -> bool:
        """What moderators see as stuck: unknown (waiting for them), or unfinished past the time-out."""
        if task.state is TaskState.UNKNOWN:
            return True
        return not task.state.final and self.timed_out(task, now=now)

    def clamp(self, seconds: float) -> float:
        return max(self.min_interval, min(self.max_interval, seconds))

    def first_poll_delay(self, expected: GenerationTime, *, safety_net: bool = False) -> float:
        """Seconds from submit to the first query: when ``FIRST_QUANTILE`` of such videos are done.

        ``safety_net``: push notifications are on, so the query is only for a push that never came:
        when ``SAFETY_QUANTILE`` of such videos are done.
        """
        share = SAFETY_QUANTILE if safety_net else FIRST_QUANTILE
        return max(self.min_interval, expected.quantile(share))

    def next_poll_delay(
        self,
        *,
        elapsed: float,
        expected: GenerationTime | None,
        progress: int | None,
        errors: int = 0,
        safety_net: bool = False,
    ) -> float:
        """Seconds until the next query of a task that is not finished yet (``elapsed`` since submit).

        Before the first query's time: wait for it (a task re-polled early, after a restart). Then the
        conditional quantile (see the module docstring). The API's progress, when given, can only
        lengthen the wait (it says how far there is to go). ``expected`` is None only after errors.
        """
        if errors > 0 or expected is None:
            return backoff(min(max(errors, 1), 16) + 1, base=self.min_interval, cap=self.max_interval)
        if safety_net:
            return self.max_interval  # pushes are on: this query only catches one that went missing
        first = expected.quantile(FIRST_QUANTILE)
        if elapsed + self.min_interval < first:
            return self.clamp(first - elapsed)
        target = expected.conditional_quantile(elapsed, HAZARD)
        delay = INTERVAL_SHARE * elapsed if target is None else target - elapsed
        if elapsed >= expected.quantile(LATE_QUANTILE):
            # Late: a log-normal's tail keeps a steady hazard, which would mean a query every few
            # seconds for minutes. A task this late is likely stuck in a queue: back off.
            delay = max(delay, INTERVAL_SHARE * elapsed)
        if progress is not None and 0 < progress < 100:
            # Halved: progress often counts only rendering, not the queue before it.
            delay = max(delay, elapsed * (100 - progress) / progress / 2)
        return self.clamp(delay)

    def eta(
        self, *, submitted_at: float | None, now: float, expected: float | None, progress: int | None
    ) -> float | None:
        """Unix time the video should be ready, or None when there is no honest guess."""
        if submitted_at is None:
            return None
        elapsed = max(0.0, now - submitted_at)
        if expected is not None and elapsed < expected:
            return submitted_at + expected
        if progress is not None and 0 < progress < 100:
            return now + elapsed * (100 - progress) / progress
        return None
