"""What the scenario, soak and fuzz tests share: reading the bot's messages and database as a member would.

The bot's messages are recognised by what a member sees (the confirmation's task number, the result's
``(task #N)`` marker, the failure embed's footer), never by internal ids, so a test fails when the
words a member relies on disappear. The database is read with plain ``sqlite3`` after the bot stopped:
the soak's accounting must hold in what is on disk, not in what the bot believes.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.i18n import CATALOGS
from tests.e2e.harness import BotHarness
from tests.fakes.fake_discord import FakeMember, FakeMessage, InteractionRecord, StoredAttachment

# Settings for a bot that finishes a video in well under a second against a fast fake MiniMax.
FAST_VIDEO_ENV = {
    "MINIMAX_RPM": "6000",
    "MINIMAX_QUERY_RPM": "60000",
    "POLL_RATE_SHARE": "1",
    "SUBMIT_CONCURRENCY": "4",
    "POLL_FIRST_DELAY_SECONDS": "0.1",
    "POLL_MIN_INTERVAL_SECONDS": "0.1",
    "POLL_MAX_INTERVAL_SECONDS": "0.5",
    "STATUS_EDIT_INTERVAL_SECONDS": "0.1",
    "LOG_LEVEL": "DEBUG",
}

GENERIC_FAILURE = "Something went wrong on our side"
# "🎬 Video **#N** is on its way…" in any language: the confirmation opens with 🎬 and a bold number.
_CONFIRMATION = re.compile(r"🎬 [^*]*\*\*#(\d+)\*\*")
_RESULT = re.compile(r"your video is ready! \(task #(\d+)\)")
_CARD_TITLE = re.compile(r"^Video #(\d+) · ")
_FOOTER = re.compile(r"^Task #(\d+)(?: · notice)?$")  # a card or details; a failure notice
_LINK = re.compile(r"https?://\S+/download/\d+\?\S+")
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def video_env(**overrides: str) -> dict[str, str]:
    return {**FAST_VIDEO_ENV, **overrides}


# ---- reading an interaction's answer -----------------------------------------------------------


def answer_text(call: InteractionRecord) -> str | None:
    """The first visible answer of a (possibly deferred) interaction: content plus embed text."""
    for message in call.messages:
        if not message.loading and message.text:
            return message.text
    return None


def confirmed_task(call: InteractionRecord) -> int | None:
    """The task number the bot confirmed in its ephemeral answer, if it accepted the request."""
    text = answer_text(call)
    match = _CONFIRMATION.search(text or "")
    return int(match.group(1)) if match else None


@dataclass
class Outcome:
    """How the bot answered one ``/video generate``: accepted (with a task number) or refused."""

    call: InteractionRecord
    text: str
    task_id: int | None

    @property
    def accepted(self) -> bool:
        return self.task_id is not None


async def wait_answer(call: InteractionRecord, timeout: float = 15.0) -> Outcome:  # noqa: ASYNC109
    text = await call.wait_for(answer_text, timeout)
    assert text is not None
    return Outcome(call, text, confirmed_task(call))


async def generate(
    h: BotHarness,
    member: FakeMember | None = None,
    *,
    timeout: float = 15.0,  # noqa: ASYNC109
    attachments: Any = None,
    validate: bool = True,
    **options: Any,
) -> Outcome:
    """``/video generate`` as ``member``; waits for the bot's final (ephemeral) answer."""
    call = await h.invoke(
        "video generate", member=member, options=options, attachments=attachments, validate=validate
    )
    return await wait_answer(call, timeout)


# ---- the bot's channel messages ----------------------------------------------------------------


def bot_messages(h: BotHarness) -> list[FakeMessage]:
    app = h.fake.app_id
    return sorted((m for m in h.fake.messages.values() if m.author.id == app), key=lambda m: m.id)


def result_task(message: FakeMessage) -> int | None:
    """The task a result message delivers (its ``(task #N)`` marker)."""
    match = _RESULT.search(message.content)
    return int(match.group(1)) if match else None


def _footer_task(message: FakeMessage) -> int | None:
    for embed in message.embeds:
        match = _FOOTER.match((embed.get("footer") or {}).get("text") or "")
        if match:
            return int(match.group(1))
    return None


_REQUESTED_BY = {catalog["card.requested_by"] for catalog in CATALOGS.values()}  # a card in any language


def is_card(message: FakeMessage) -> bool:
    """A status card: the bot's own channel message with the "Requested by" field, not a reply."""
    return (
        message.via == "channel"
        and message.message_reference is None
        and any(f.get("name") in _REQUESTED_BY for e in message.embeds for f in e.get("fields") or [])
    )


def card_task(message: FakeMessage) -> int | None:
    return _footer_task(message) if is_card(message) else None


def failure_task(message: FakeMessage) -> int | None:
    """The task a failure notice is about: a footer-tagged embed that is not a card."""
    if message.via != "channel" or is_card(message) or result_task(message) is not None:
        return None
    return _footer_task(message)


def card_of(h: BotHarness, task_id: int) -> FakeMessage | None:
    return next((m for m in bot_messages(h) if not m.deleted and card_task(m) == task_id), None)


def card_title(message: FakeMessage) -> str:
    return message.embeds[0].get("title", "") if message.embeds else ""


def results_by_task(h: BotHarness) -> Counter[int]:
    return Counter(t for m in bot_messages(h) if not m.deleted and (t := result_task(m)) is not None)


def failures_by_task(h: BotHarness) -> Counter[int]:
    return Counter(t for m in bot_messages(h) if not m.deleted and (t := failure_task(m)) is not None)


@dataclass
class ChannelView:
    """One pass over the bot's messages: each task's card title and how often it was told its end."""

    titles: dict[int, str]
    results: Counter[int]
    failures: Counter[int]

    def told(self, task_id: int) -> int:
        return self.results[task_id] + self.failures[task_id]


def channel_view(h: BotHarness) -> ChannelView:
    """Cheap enough to re-check on every change of the fake (the soak waits on it)."""
    view = ChannelView({}, Counter(), Counter())
    for message in h.fake.messages.values():
        if message.deleted or message.author.id != h.fake.app_id:
            continue
        if (task := result_task(message)) is not None:
            view.results[task] += 1
        elif (task := card_task(message)) is not None:
            view.titles[task] = card_title(message)
        elif (task := failure_task(message)) is not None:
            view.failures[task] += 1
    return view


async def wait_result(h: BotHarness, task_id: int, timeout: float = 20.0) -> FakeMessage:  # noqa: ASYNC109
    """The result message of ``task_id``; fails at once, with the reason, if a failure came instead."""

    def find() -> FakeMessage | None:
        for message in bot_messages(h):
            if message.deleted:
                continue
            if result_task(message) == task_id:
                return message
            if failure_task(message) == task_id:
                raise AssertionError(f"task #{task_id} failed instead: {message.text}")
        return None

    found: FakeMessage | None = await h.wait_until(find, timeout, f"the result of task #{task_id}")
    assert found is not None
    return found


async def wait_delivered(h: BotHarness, task_id: int, timeout: float = 20.0) -> FakeMessage:  # noqa: ASYNC109
    """The result of ``task_id`` once the bot has also recorded it (its card then says Delivered).

    The result message appears a moment before the task is marked delivered; a test that stops the
    bot in between would find it still ``delivering`` (which the next start would resolve).
    """
    result = await wait_result(h, task_id, timeout)

    def recorded() -> bool:
        card = card_of(h, task_id)
        return card is not None and "Delivered" in card_title(card)

    await h.wait_until(recorded, timeout, f"the card of task #{task_id} to show Delivered")
    return result


def download_link(message: FakeMessage) -> str | None:
    match = _LINK.search(message.content)
    return match.group(0) if match else None


POSTER = "poster.jpg"


def video_of(message: FakeMessage) -> StoredAttachment:
    """The one video attached to a result (beside it, the poster frame)."""
    [video] = [a for a in message.attachments if a.filename.lower().endswith(".mp4")]
    return video


def poster_of(message: FakeMessage) -> StoredAttachment | None:
    """The poster frame attached to a result, when it has one."""
    found = [a for a in message.attachments if a.filename == POSTER]
    assert len(found) <= 1, "one poster per result"
    return found[0] if found else None


def embed_image(message: FakeMessage) -> str | None:
    """The image URL of the result's embed (``attachment://poster.jpg`` as sent)."""
    urls = [e["image"]["url"] for e in message.embeds if "image" in e]
    assert len(urls) <= 1
    return urls[0] if urls else None


# ---- mentions ------------------------------------------------------------------------------------


def pinged(message: FakeMessage) -> set[str]:
    """Who this message really notifies, by Discord's rules for content and ``allowed_mentions``.

    Embeds never ping; ``allowed_mentions`` absent means Discord parses every mention in the content.
    """
    content = message.content
    allowed = message.allowed_mentions
    parse = set((allowed or {}).get("parse") or []) if allowed is not None else {"everyone", "users", "roles"}
    users = {str(u) for u in (allowed or {}).get("users") or []}
    roles = {str(r) for r in (allowed or {}).get("roles") or []}
    found: set[str] = set()
    if ("@everyone" in content or "@here" in content) and "everyone" in parse:
        found.add("@everyone")
    for user_id in _USER_MENTION.findall(content):
        if "users" in parse or user_id in users:
            found.add(f"user:{user_id}")
    for role_id in _ROLE_MENTION.findall(content):
        if "roles" in parse or role_id in roles:
            found.add(f"role:{role_id}")
    return found


# ---- the database ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    id: int
    user_id: int
    prompt: str
    state: str
    cost_tenths: int
    error_code: str | None
    regenerated_from: int | None
    result_message_id: int | None
    status_message_id: int | None
    api_task_id: str | None


@dataclass
class Ledger:
    """Per task: tenths reserved, charged and refunded."""

    reserved: dict[int, int]
    charged: dict[int, int]
    refunded: dict[int, int]
    rows: int


def read_db(path: Path) -> tuple[dict[int, TaskRow], Ledger, str]:
    """Tasks, ledger and ``PRAGMA integrity_check``, read straight from the file (bot stopped)."""
    conn = sqlite3.connect(path)
    try:
        conn.row_factory = sqlite3.Row
        integrity = ", ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
        tasks = {
            r["id"]: TaskRow(
                r["id"],
                r["user_id"],
                r["prompt"],
                r["state"],
                r["cost_tenths"],
                r["error_code"],
                r["regenerated_from"],
                r["result_message_id"],
                r["status_message_id"],
                r["api_task_id"],
            )
            for r in conn.execute("SELECT * FROM tasks")
        }
        sums: dict[str, dict[int, int]] = {"reserve": {}, "charge": {}, "refund": {}}
        rows = 0
        for r in conn.execute("SELECT kind, task_id, tenths FROM ledger WHERE task_id IS NOT NULL"):
            rows += 1
            bucket = sums[r["kind"]]
            bucket[r["task_id"]] = bucket.get(r["task_id"], 0) + r["tenths"]
    finally:
        conn.close()
    return tasks, Ledger(sums["reserve"], sums["charge"], sums["refund"], rows), integrity


FINAL_OR_UNKNOWN = frozenset({"delivered", "failed", "cancelled", "unknown"})


def task_states(path: Path) -> dict[int, str]:
    """Each task's state, read while the bot may be writing (WAL lets a reader in at any time)."""
    conn = sqlite3.connect(path, timeout=5)
    try:
        return {int(r[0]): str(r[1]) for r in conn.execute("SELECT id, state FROM tasks")}
    finally:
        conn.close()


async def wait_db(
    h: BotHarness,
    predicate: Callable[[dict[int, str]], object],
    what: str,
    timeout: float = 30.0,  # noqa: ASYNC109
    interval: float = 0.1,
) -> dict[int, str]:
    """Poll the tasks' states (with a deadline) until ``predicate`` holds; the fake cannot see the db."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        h.check_alive()
        states = task_states(h.database_path)
        if predicate(states):
            return states
        if loop.time() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {what}: {states}\n{h.log_tail(30)}"
            )
        await asyncio.sleep(interval)


async def wait_tasks_settled(
    h: BotHarness,
    task_ids: Iterable[int],
    timeout: float = 30.0,  # noqa: ASYNC109
) -> dict[int, str]:
    """Until every task in ``task_ids`` is final or parked as ``unknown``."""
    wanted = set(task_ids)
    return await wait_db(
        h,
        lambda states: all(states.get(t) in FINAL_OR_UNKNOWN for t in wanted),
        f"tasks {sorted(wanted)[:10]}… to end",
        timeout,
    )


async def wait_states(
    h: BotHarness,
    expected: Mapping[int, str],
    timeout: float = 10.0,  # noqa: ASYNC109
) -> dict[int, str]:
    """Until each task is in the given state."""
    return await wait_db(
        h, lambda states: all(states.get(t) == s for t, s in expected.items()), f"states {expected}", timeout
    )


def by_state(tasks: Iterable[TaskRow]) -> Counter[str]:
    return Counter(t.state for t in tasks)


def describe(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
