"""DiscordNotifier against stand-ins for discord.py's channels: replies, mentions and every fallback."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.lifecycle import DEFAULT_UPLOAD_LIMIT, MemberRefused, ResultPost, StatusCard
from bot.lifecycle.notifier import UploadTooLarge
from cogs import embeds
from cogs.followups import FollowupRegistry
from cogs.notifier import FETCHED_LIMIT_SECONDS, DiscordNotifier
from storage import Task, TaskState
from tests.builders import task_of

# Message ids are snowflakes, as Discord's: these were "sent" a few hours after the tasks below began.
_ids = itertools.count(discord.utils.time_snowflake(datetime.fromtimestamp(1_700_010_000, UTC)))


def http_error(kind: type[discord.HTTPException], status: int, code: int = 0) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="nope")
    return kind(response, {"code": code, "message": "nope"})  # type: ignore[arg-type]


@dataclasses.dataclass
class Sent:
    id: int
    kwargs: dict[str, Any]
    content: str = ""
    author: Any = None

    @property
    def embeds(self) -> list[discord.Embed]:
        embed = self.kwargs.get("embed")
        return [embed] if embed is not None else list(self.kwargs.get("embeds") or [])


class FakeChannel:
    def __init__(self, me: Any) -> None:
        self.me = me
        self.sent: list[Sent] = []
        self.edited: list[tuple[int, dict[str, Any]]] = []
        self.deleted: set[int] = set()
        self.send_error: discord.HTTPException | None = None
        self.file_error: discord.HTTPException | None = None
        self.error_after_send: discord.HTTPException | None = None  # created, then the answer is lost

    async def send(self, **kwargs: Any) -> Sent:
        if self.send_error is not None:
            raise self.send_error
        if ("file" in kwargs or "files" in kwargs) and self.file_error is not None:
            raise self.file_error
        sent = Sent(next(_ids), kwargs, kwargs.get("content") or "", self.me)
        self.sent.append(sent)
        if self.error_after_send is not None:
            raise self.error_after_send
        return sent

    def get_partial_message(self, message_id: int) -> Any:
        channel = self

        class Partial:
            async def edit(self, **kwargs: Any) -> None:
                if message_id in channel.deleted:
                    raise http_error(discord.NotFound, 404, 10008)
                channel.edited.append((message_id, kwargs))

        return Partial()

    async def history(self, *, limit: int, after: Any, oldest_first: bool) -> AsyncIterator[Sent]:
        """As discord.py reads it: messages after ``after``, at most ``limit``, from either end."""
        newer = sorted((m for m in self.sent if m.id > after.id), key=lambda m: m.id)
        for message in (newer if oldest_first else newer[::-1])[:limit]:
            yield message


class FakeBot:
    def __init__(self) -> None:
        self.user = SimpleNamespace(id=999)
        self.channels: dict[int, FakeChannel] = {}
        self.dms: dict[int, FakeChannel] = {}
        self.guilds: dict[int, Any] = {}
        self.remote: dict[int, Any] = {}
        self.fetched: list[int] = []

    def get_partial_messageable(self, channel_id: int, *, guild_id: int | None = None) -> FakeChannel:
        return self.channels.setdefault(channel_id, FakeChannel(self.user))

    async def create_dm(self, user: Any) -> FakeChannel:
        return self.dms.setdefault(user.id, FakeChannel(self.user))

    def get_guild(self, guild_id: int) -> Any:
        return self.guilds.get(guild_id)

    async def fetch_guild(self, guild_id: int, *, with_counts: bool = True) -> Any:
        """REST: the guilds of other shards (``remote``) are there; anything else is unknown."""
        self.fetched.append(guild_id)
        if guild_id not in self.remote:
            raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), "Unknown Guild")  # type: ignore[arg-type]
        return self.remote[guild_id]


def make_task(**overrides: Any) -> Task:
    values: dict[str, Any] = {}
    values.update(
        id=12, guild_id=1, channel_id=2, user_id=3, status_message_id=40, prompt="@everyone look",
        model="MiniMax-Hailuo-2.3", mode="text", resolution="768P", duration=6, prompt_optimizer=True,
        fast_pretreatment=False, cost_tenths=10, state=TaskState.DELIVERING, attempts=1,
        created_at=1_700_000_000.0, deliver_by_dm=False,
    )  # fmt: skip
    values.update(overrides)
    return task_of(**values)


async def test_a_card_far_back_in_the_queue_says_in_line_with_an_eta(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(state=TaskState.QUEUED, status_message_id=None)
    await notifier.post_status(StatusCard(task, in_line=True, eta=1_800_000_000.0))
    fields = {f["name"]: f["value"] for f in bot.channels[2].sent[0].kwargs["embed"].to_dict()["fields"]}
    assert fields["Queue"] == "in line, after the first 10"
    assert fields["Ready"] == "about <t:1800000000:R>"


async def test_status_cards_are_posted_and_edited_without_mentions(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(state=TaskState.QUEUED, status_message_id=None)
    message_id = await notifier.post_status(StatusCard(task, queue_position=3))
    (sent,) = bot.channels[2].sent
    assert message_id == sent.id
    assert sent.kwargs["allowed_mentions"].to_dict() == discord.AllowedMentions.none().to_dict()
    assert "#3 in line" in str(sent.kwargs["embed"].to_dict())
    edited = dataclasses.replace(task, status_message_id=message_id, state=TaskState.PROCESSING)
    assert await notifier.edit_status(StatusCard(edited)) == message_id
    assert bot.channels[2].edited[0][0] == message_id


async def test_a_deleted_card_is_reposted(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    channel.deleted.add(40)
    new_id = await notifier.edit_status(StatusCard(make_task(state=TaskState.PROCESSING)))
    assert new_id is not None and new_id != 40 and channel.sent[-1].id == new_id


async def test_a_forbidden_card_edit_reports_nothing_shown(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)

    async def refuse(**_: Any) -> None:
        raise http_error(discord.Forbidden, 403, 50013)

    channel.get_partial_message = lambda _mid: SimpleNamespace(edit=refuse)  # type: ignore[method-assign]
    assert await notifier.edit_status(StatusCard(make_task())) is None


async def test_result_replies_to_the_card_and_mentions_only_the_requester(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task()
    message_id = await notifier.post_result(ResultPost(task, via_dm=False, file_path=video, filename="v.mp4"))
    (sent,) = bot.channels[2].sent
    assert message_id == sent.id
    mentions = sent.kwargs["allowed_mentions"]
    assert mentions.everyone is False and mentions.roles is False and [u.id for u in mentions.users] == [3]
    assert sent.kwargs["reference"].message_id == 40
    assert isinstance(sent.kwargs["file"], discord.File) and "(task #12)" in sent.content
    ids = {item.custom_id for item in sent.kwargs["view"].children}
    assert ids == {
        "video:regen:12",
        "video:details:12",
        "video:remix:12",
        "video:extend:12",
        "video:loop:12",
        "video:share:12",
    }
    assert await notifier.find_result(task) == message_id


async def test_over_the_limit_upload_falls_back_to_the_link(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    channel.file_error = http_error(discord.HTTPException, 413, 40005)
    post = ResultPost(
        make_task(), via_dm=False, file_path=video, link="https://cdn/x.mp4", link_expires_at=1_700_003_600
    )
    assert await notifier.post_result(post) is not None
    (sent,) = channel.sent
    assert (
        "https://cdn/x.mp4" in sent.content
        and "<t:1700003600:R>" in sent.content
        and "file" not in sent.kwargs
    )


async def test_a_channel_that_refuses_falls_back_to_a_dm(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    bot.get_partial_messageable(2).send_error = http_error(discord.Forbidden, 403, 50013)
    message_id = await notifier.post_result(ResultPost(make_task(), via_dm=False, file_path=video))
    (sent,) = bot.dms[3].sent
    assert message_id == sent.id and "reference" not in sent.kwargs
    failure_id = await notifier.post_failure(make_task(state=TaskState.FAILED), "it broke")
    assert failure_id == bot.dms[3].sent[-1].id


async def test_private_results_never_fall_back_to_the_channel(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    dm = await bot.create_dm(SimpleNamespace(id=3))
    dm.send_error = http_error(discord.Forbidden, 403, 50007)
    task = make_task(deliver_by_dm=True)
    # Only the member's side refused (no follow-up left): a verdict the delivery acts on (charged, kept).
    with pytest.raises(MemberRefused):
        await notifier.post_result(ResultPost(task, via_dm=True, private=True, file_path=video))
    assert bot.get_partial_messageable(2).sent == []
    # A member's own DM preference may fall back to the channel.
    assert (
        await notifier.post_result(ResultPost(task, via_dm=True, private=False, file_path=video)) is not None
    )
    assert len(bot.get_partial_messageable(2).sent) == 1


async def test_failures_reply_and_mention_only_the_requester(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    await notifier.post_failure(make_task(state=TaskState.FAILED), "The service refused it.")
    (sent,) = bot.channels[2].sent
    assert [u.id for u in sent.kwargs["allowed_mentions"].users] == [3]
    assert sent.kwargs["allowed_mentions"].everyone is False
    assert "The service refused it." in str(sent.kwargs["embed"].to_dict())


async def test_a_restart_recognises_its_own_failure_notice_by_its_mark_alone(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    task = make_task(state=TaskState.FAILED, status_message_id=None)
    card = embeds.status_embed(StatusCard(task))
    card.clear_fields()  # whatever the card's fields are called, it is not a notice
    bot.get_partial_messageable(2).sent.append(
        Sent(_snowflake(task.created_at, 1), {"embed": card}, "", bot.user)
    )
    assert await notifier.find_failure(task) is None
    await notifier.post_failure(task, "The service refused it.")
    (_card, notice) = bot.channels[2].sent
    assert await notifier.find_failure(task) == notice.id
    assert await notifier.find_failure(make_task(id=13, state=TaskState.FAILED)) is None


async def test_find_result_ignores_other_messages_and_upload_limit(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    channel.sent.append(Sent(1, {}, "(task #12)", SimpleNamespace(id=5)))  # someone else quoting it
    channel.sent.append(Sent(2, {}, "(task #120)", bot.user))
    assert await notifier.find_result(make_task()) is None
    assert await notifier.upload_limit(1) == DEFAULT_UPLOAD_LIMIT
    bot.guilds[1] = SimpleNamespace(filesize_limit=50 * 1024 * 1024)
    assert await notifier.upload_limit(1) == 50 * 1024 * 1024
    assert await notifier.upload_limit(None) == DEFAULT_UPLOAD_LIMIT


async def test_a_guild_outside_the_cache_has_its_limit_fetched_and_remembered(bot: FakeBot) -> None:
    """Another shard's guild (its process took the request; this one delivers): a boosted server
    keeps its limit instead of the smallest one, at one REST call per guild per while."""
    now = [0.0]
    notifier = DiscordNotifier(bot, clock=lambda: now[0])  # type: ignore[arg-type]
    bot.remote[7] = SimpleNamespace(filesize_limit=100 * 1024 * 1024)
    assert await notifier.upload_limit(7) == 100 * 1024 * 1024
    assert await notifier.upload_limit(7) == 100 * 1024 * 1024
    assert bot.fetched == [7]
    bot.remote[7] = SimpleNamespace(filesize_limit=50 * 1024 * 1024)  # the boost ended
    now[0] += FETCHED_LIMIT_SECONDS
    assert await notifier.upload_limit(7) == 50 * 1024 * 1024 and bot.fetched == [7, 7]
    assert await notifier.upload_limit(8) == DEFAULT_UPLOAD_LIMIT  # unknown: the smallest, not a crash


def _snowflake(ts: float, n: int = 0) -> int:
    return discord.utils.time_snowflake(datetime.fromtimestamp(ts, UTC)) + n


async def test_find_result_in_a_busy_channel(bot: FakeBot) -> None:
    """Hundreds of messages around the result (others' results, chatter) must not hide it."""
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    member = SimpleNamespace(id=5)
    created = 1_700_000_000.0
    finished = created + 3600  # the task waited an hour in a busy queue
    card = _snowflake(created)
    for n in range(200):  # while it waited
        channel.sent.append(Sent(_snowflake(created + 60, n), {}, f"chatter {n}", member))
    for n in range(150):  # other tasks' results, just before this one finished
        channel.sent.append(Sent(_snowflake(finished - 20, n), {}, f"ready! (task #{1000 + n})", bot.user))
    result = _snowflake(finished + 5)
    channel.sent.append(Sent(result, {}, "<@3> your video is ready! (task #12)", bot.user))
    for n in range(150):  # the channel went on talking until the restart
        channel.sent.append(Sent(_snowflake(finished + 30, n), {}, f"later {n}", member))
    task = make_task(status_message_id=card, finished_at=finished)
    assert await notifier.find_result(task) == result


async def test_a_server_error_after_posting_does_not_post_a_second_copy_by_dm(
    bot: FakeBot, video: Path
) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    channel.error_after_send = http_error(discord.DiscordServerError, 500)
    task = make_task(finished_at=1_700_000_600.0, status_message_id=_snowflake(1_700_000_000.0))
    message_id = await notifier.post_result(ResultPost(task, via_dm=False, file_path=video))
    (sent,) = channel.sent
    assert message_id == sent.id
    assert 3 not in bot.dms or bot.dms[3].sent == []


async def test_a_server_error_with_nothing_posted_still_falls_back_to_a_dm(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    bot.get_partial_messageable(2).send_error = http_error(discord.DiscordServerError, 503)
    task = make_task(finished_at=1_700_000_600.0, status_message_id=_snowflake(1_700_000_000.0))
    message_id = await notifier.post_result(ResultPost(task, via_dm=False, file_path=video))
    (sent,) = bot.dms[3].sent
    assert message_id == sent.id


# ------------------------------------------------------------------------------ interaction follow-ups


class FakeWebhook:
    """An interaction's follow-up webhook: records what it sent and edited."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.edited: list[tuple[int, dict[str, Any]]] = []
        self.file_error: discord.HTTPException | None = None
        self.send_error: discord.HTTPException | None = None

    async def send(self, **kwargs: Any) -> Sent:
        assert kwargs.pop("wait") is True, "without wait=True discord.py returns no message"
        if self.send_error is not None:
            raise self.send_error
        if ("file" in kwargs or "files" in kwargs) and self.file_error is not None:
            raise self.file_error
        sent = Sent(next(_ids), kwargs, kwargs.get("content") or "")
        self.sent.append(sent)
        return sent

    async def edit_message(self, message_id: int, **kwargs: Any) -> None:
        self.edited.append((message_id, kwargs))


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def interaction_at(ts: float, webhook: FakeWebhook | None = None) -> Any:
    return SimpleNamespace(created_at=datetime.fromtimestamp(ts, UTC), followup=webhook or FakeWebhook())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def followups(clock: Clock) -> FollowupRegistry:
    return FollowupRegistry(clock=clock)


def forbidden() -> discord.HTTPException:
    return http_error(discord.Forbidden, 403, 50001)


async def test_a_refusing_channel_gets_the_result_through_the_follow_up(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    assert followups.remember(12, interaction_at(clock.now - 60, webhook))
    bot.get_partial_messageable(2).send_error = forbidden()
    message_id = await notifier.post_result(ResultPost(make_task(), via_dm=False, file_path=video))
    (sent,) = webhook.sent
    assert message_id == sent.id
    assert sent.kwargs["ephemeral"] is False and isinstance(sent.kwargs["file"], discord.File)
    mentions = sent.kwargs["allowed_mentions"]
    assert mentions.everyone is False and mentions.roles is False and [u.id for u in mentions.users] == [3]
    assert {item.custom_id for item in sent.kwargs["view"].children} == {
        "video:regen:12",
        "video:details:12",
        "video:remix:12",
        "video:extend:12",
        "video:loop:12",
        "video:share:12",
    }
    assert "(task #12)" in sent.content and "reference" not in sent.kwargs
    assert 3 not in bot.dms, "no DM when the follow-up took it"


async def test_a_deleted_channel_also_falls_back_to_the_follow_up(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    bot.get_partial_messageable(2).send_error = http_error(discord.NotFound, 404, 10003)
    assert (
        await notifier.post_result(ResultPost(make_task(), via_dm=False, file_path=video))
        == webhook.sent[0].id
    )


async def test_an_expired_follow_up_token_goes_to_a_dm(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    clock.now += 15 * 60 - 30  # inside the token's life, but not with the safety margin
    bot.get_partial_messageable(2).send_error = forbidden()
    message_id = await notifier.post_result(ResultPost(make_task(), via_dm=False, file_path=video))
    assert webhook.sent == [] and message_id == bot.dms[3].sent[0].id
    assert 12 not in followups, "the expired entry was dropped"


async def test_a_server_error_is_not_a_refusal_and_skips_the_follow_up(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    bot.get_partial_messageable(2).send_error = http_error(discord.DiscordServerError, 503)
    task = make_task(finished_at=1_700_000_600.0, status_message_id=_snowflake(1_700_000_000.0))
    message_id = await notifier.post_result(ResultPost(task, via_dm=False, file_path=video))
    assert webhook.sent == [] and message_id == bot.dms[3].sent[0].id


async def test_the_follow_up_respects_the_upload_limit(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    webhook.file_error = http_error(discord.HTTPException, 413, 40005)
    followups.remember(12, interaction_at(clock.now, webhook))
    bot.get_partial_messageable(2).send_error = forbidden()
    post = ResultPost(
        make_task(), via_dm=False, file_path=video, link="https://cdn/x.mp4", link_expires_at=1_700_003_600
    )
    assert await notifier.post_result(post) is not None
    (sent,) = webhook.sent
    assert "https://cdn/x.mp4" in sent.content and "<t:1700003600:R>" in sent.content
    assert "file" not in sent.kwargs


async def test_a_private_result_refused_by_dm_comes_as_an_ephemeral_follow_up(
    bot: FakeBot, video: Path, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    dm = await bot.create_dm(SimpleNamespace(id=3))
    dm.send_error = http_error(discord.Forbidden, 403, 50007)
    task = make_task(deliver_by_dm=True)
    message_id = await notifier.post_result(ResultPost(task, via_dm=True, private=True, file_path=video))
    (sent,) = webhook.sent
    assert message_id == sent.id and sent.kwargs["ephemeral"] is True
    assert bot.get_partial_messageable(2).sent == [], "a private result never goes to the channel"


async def test_a_failure_notice_falls_back_to_the_follow_up_without_mentions(
    bot: FakeBot, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    bot.get_partial_messageable(2).send_error = forbidden()
    failure_id = await notifier.post_failure(make_task(state=TaskState.FAILED), "The service refused it.")
    (sent,) = webhook.sent
    assert failure_id == sent.id and sent.kwargs["ephemeral"] is False
    assert sent.kwargs["allowed_mentions"].to_dict() == discord.AllowedMentions.none().to_dict()
    assert "The service refused it." in str(sent.kwargs["embed"].to_dict())
    assert 3 not in bot.dms
    assert 12 in followups, "kept for the failed card's final edit; it expires with the token"


async def test_a_refused_status_card_is_posted_and_edited_through_the_follow_up(
    bot: FakeBot, clock: Clock, followups: FollowupRegistry
) -> None:
    notifier = DiscordNotifier(bot, followups)  # type: ignore[arg-type]
    webhook = FakeWebhook()
    followups.remember(12, interaction_at(clock.now, webhook))
    channel = bot.get_partial_messageable(2)
    channel.send_error = forbidden()
    task = make_task(state=TaskState.QUEUED, status_message_id=None)
    card_id = await notifier.post_status(StatusCard(task, queue_position=2))
    (sent,) = webhook.sent
    assert card_id == sent.id and sent.kwargs["ephemeral"] is False
    assert sent.kwargs["allowed_mentions"].to_dict() == discord.AllowedMentions.none().to_dict()
    assert "#2 in line" in str(sent.kwargs["embed"].to_dict())

    async def refuse(**_: Any) -> None:
        raise forbidden()

    channel.get_partial_message = lambda _mid: SimpleNamespace(edit=refuse)  # type: ignore[method-assign]
    processing = dataclasses.replace(task, status_message_id=card_id, state=TaskState.PROCESSING)
    assert await notifier.edit_status(StatusCard(processing)) == card_id
    assert [mid for mid, _ in webhook.edited] == [card_id]
    assert 12 in followups
    delivered = dataclasses.replace(processing, state=TaskState.DELIVERED)
    assert await notifier.edit_status(StatusCard(delivered)) == card_id
    assert 12 not in followups, "nothing more is posted for a delivered task"


async def test_without_a_follow_up_a_refused_card_is_simply_not_shown(bot: FakeBot) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    bot.get_partial_messageable(2).send_error = forbidden()
    assert await notifier.post_status(StatusCard(make_task(status_message_id=None))) is None


async def test_the_registry_stays_bounded(clock: Clock, followups: FollowupRegistry) -> None:
    old = interaction_at(clock.now - 20 * 60)
    assert not followups.remember(1, old), "a token that has expired is not kept"
    for task_id in range(2, 12):
        assert followups.remember(task_id, interaction_at(clock.now))
    assert len(followups) == 10
    followups.forget(2)
    assert followups.get(2) is None and followups.get(3) is not None
    clock.now += 15 * 60
    followups.remember(50, interaction_at(clock.now, SecretWebhook()))
    assert len(followups) == 1, "expired entries are swept when a new one arrives"
    assert "s3cret" not in repr(followups._entries[50]), "the token never reaches a log line"


class SecretWebhook(FakeWebhook):
    def __repr__(self) -> str:
        return "<Webhook token='s3cret'>"


async def test_a_file_refused_as_too_large_is_handed_back_when_the_delivery_can_refit(
    bot: FakeBot, video: Path
) -> None:
    """With ``refit`` the delivery makes a smaller file: no link fallback, the verdict goes up."""
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    channel.file_error = http_error(discord.HTTPException, 413, 40005)
    post = ResultPost(
        make_task(), via_dm=False, file_path=video, size_bytes=1234, link="https://cdn/x.mp4", refit=True
    )
    with pytest.raises(UploadTooLarge) as caught:
        await notifier.post_result(post)
    assert caught.value.size_bytes == 1234
    assert channel.sent == []


async def test_a_re_encoded_result_says_so_and_where_the_full_quality_is(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    post = ResultPost(make_task(), via_dm=False, file_path=video, refitted=True)
    assert await notifier.post_result(post) is not None
    (sent,) = bot.get_partial_messageable(2).sent
    assert "file" in sent.kwargs
    assert "Re-encoded to fit; full quality: Details." in sent.content


@pytest.fixture
def poster_jpg(tmp_path: Path) -> Path:
    path = tmp_path / "task-12-poster.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    return path


def _image_url(sent: Sent) -> str | None:
    (embed,) = sent.embeds
    return embed.image.url


async def test_a_result_with_a_poster_attaches_it_and_shows_it_as_the_embed_image(
    bot: FakeBot, video: Path, poster_jpg: Path
) -> None:
    """#12: the card shows the first frame even where the video will not play."""
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    post = ResultPost(make_task(), via_dm=False, file_path=video, filename="v.mp4", poster_path=poster_jpg)
    assert await notifier.post_result(post) is not None
    (sent,) = bot.channels[2].sent
    assert [f.filename for f in sent.kwargs["files"]] == ["v.mp4", embeds.POSTER_FILENAME]
    assert _image_url(sent) == "attachment://poster.jpg"
    assert "(task #12)" in sent.content and "footer" not in sent.embeds[0].to_dict()


async def test_a_link_only_result_still_carries_its_poster(bot: FakeBot, poster_jpg: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    channel = bot.get_partial_messageable(2)
    link = ResultPost(
        make_task(),
        via_dm=False,
        link="https://cdn/x.mp4",
        link_expires_at=1_700_003_600,
        poster_path=poster_jpg,
    )
    assert await notifier.post_result(link) is not None
    (sent,) = channel.sent
    assert "https://cdn/x.mp4" in sent.content
    assert sent.kwargs["file"].filename == embeds.POSTER_FILENAME and "files" not in sent.kwargs
    assert _image_url(sent) == "attachment://poster.jpg"


async def test_a_result_without_a_poster_has_no_embed_image(bot: FakeBot, video: Path) -> None:
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    assert await notifier.post_result(ResultPost(make_task(), via_dm=False, file_path=video)) is not None
    (sent,) = bot.channels[2].sent
    assert sent.embeds == [] and sent.kwargs["file"].filename == "video.mp4"


async def test_a_poster_goes_again_when_the_thread_refuses_and_the_channel_takes_it(
    bot: FakeBot, video: Path, poster_jpg: Path
) -> None:
    """Both files are rewound for the second send (a read-once file would go out empty)."""
    notifier = DiscordNotifier(bot)  # type: ignore[arg-type]
    thread = bot.get_partial_messageable(77)
    thread.send_error = http_error(discord.Forbidden, 403, 50013)
    task = make_task(thread_id=77)
    post = ResultPost(task, via_dm=False, file_path=video, filename="v.mp4", poster_path=poster_jpg)
    assert await notifier.post_result(post) is not None
    (sent,) = bot.channels[2].sent
    assert [f.filename for f in sent.kwargs["files"]] == ["v.mp4", embeds.POSTER_FILENAME]
    assert _image_url(sent) == "attachment://poster.jpg"
