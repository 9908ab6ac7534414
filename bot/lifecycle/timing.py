"""When to poll a task next, and when to tell the member it will be ready.

Pure arithmetic, kept apart from the poller so the policy can be read (and tested) on its own:
the first query goes out near the time such a video usually takes (learned from finished tasks),
then every few seconds, slower the longer a task runs past its expected time, and much slower after
errors. Every bound is a setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.backoff import backoff
from bot.config import Settings
from storage.models import Task
from storage.states import TaskState

# First query at this share of the learned generation time: half the tasks finish before the median,
# and querying a little early costs one query while querying late costs every member some waiting.
FIRST_POLL_SHARE = 0.9
# After that, wait this share of the task's running time between queries (within the bounds).
INTERVAL_SHARE = 0.15


@dataclass(frozen=True)
class PollTiming:
    first_delay: float
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

    def first_poll_delay(self, expected: float | None) -> float:
        """Seconds from submit to the first query: a little before the learned duration, else the
        configured delay (nothing learned yet for this model, resolution and duration)."""
        if expected is not None and expected > 0:
            return max(self.min_interval, FIRST_POLL_SHARE * expected)
        return self.first_delay

    def next_poll_delay(
        self, *, elapsed: float, expected: float | None, progress: int | None, errors: int = 0
    ) -> float:
        """Seconds until the next query of a task that is not finished yet.

        Before the expected time: wait for it. After it: a share of the time the task has run so far,
        so a short task is checked often and a long one is not queried every few seconds for minutes.
        The API's progress, when given, can only lengthen the wait (it says how far there is to go).
        """
        if errors > 0:
            return backoff(min(errors, 16) + 1, base=self.min_interval, cap=self.max_interval)
        target = FIRST_POLL_SHARE * (expected if expected is not None else self.first_delay)
        if elapsed + self.min_interval < target:
            return self.clamp(target - elapsed)
        delay = INTERVAL_SHARE * elapsed
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
