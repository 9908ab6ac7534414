"""Fuzz: 500 seeded, mostly wrong ``/video generate`` requests, each answered in time and in plain words.

Members send what Discord's client would let through and, with ``validate=False``, what a modified
client or a stale command schema could send: empty and over-long prompts, invisible characters, unicode,
mass and role mentions, unknown models, resolutions and durations, and attachments of the wrong type, too
large, too small or oddly shaped. Every interaction must get its first answer within Discord's three
seconds (the fake enforces it), every answer must be a confirmation or a refusal that says what to fix
(never the generic "something went wrong"), requests that are certainly invalid must be refused, the
accepted ones must end with exactly one result or failure notice, nobody may be pinged but a result's
own requester, and the bot's log must stay free of errors.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import MODELS as MODEL_TABLE
from bot.catalog import RESOLUTIONS
from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import (
    GENERIC_FAILURE,
    Outcome,
    bot_messages,
    channel_view,
    failure_task,
    pinged,
    result_task,
    video_env,
    wait_answer,
    wait_tasks_settled,
)
from tests.fakes.fake_discord import MIB, FakeMember, StoredAttachment, png_bytes
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

SEED = 500
CASES = 500
BATCH = 25  # interactions in flight at once
MODELS = tuple(MODEL_TABLE)  # the choices /video generate offers
BAD_MODELS = ("gpt-video", "@everyone", "", "minimax-hailuo-2.3", "S2V-01 ", "<@&{role}>")
BAD_RESOLUTIONS = ("4K", "768p", "", "1080", "@here")
BAD_DURATIONS = (0, 3, -6, 60, 10**12)  # no model makes these (H3 makes 4-15 s)
UNICODE = (
    "猫が雪の中を走る",
    "кошка бежит по снегу",
    "قطة تجري في الثلج",
    "🦊🌨️🎬",
    "e\u0301\u0301\u0301 zalgo",
)
# "ok" thrice: most attachments members send are fine.
ATTACHMENT_KINDS = (
    *("ok", "ok", "ok", "webp", "huge_pixels", "liar"),
    *("tiny", "thin", "wide", "huge_file", "text", "gif"),
)

# Every way the bot says "no" to a /video generate, so a new refusal without clear words fails here.
CLEAR_REFUSALS = re.compile(
    "|".join(
        (
            r"The prompt is empty",
            r"The prompt is \d+ characters long; the limit is 2000",
            r"The prompt is \d+ characters long; the limit is 7000",
            r"A last_frame needs a first_frame",
            r"A subject image cannot be combined",
            r"must be a JPG, PNG or WebP image",
            r"images must be under 20 MB",
            r"shorter side must be over 300 px",
            r"aspect ratio .* it must be between 2:5 and 5:2",
            r"There is no model called",
            r"cannot make .* videos",
            r"Resolution must be one of",
            r"Duration must be 6 or 10 seconds",
            r"does not make \S+ (s )?videos",
            r"makes \S+ videos only",
            r"has no fast mode",
            r"Fast preparation is not offered for first \+ last frame",
            r"None of the models this server allows",
        )
    )
)


@dataclass
class Case:
    n: int
    member: FakeMember
    options: dict[str, Any]
    attachments: dict[str, StoredAttachment]
    invalid: list[str] = field(default_factory=list)  # why it must be refused, if it must

    @property
    def validate(self) -> bool:
        return not self.invalid or all(i.startswith("image:") or i.startswith("combo:") for i in self.invalid)


class Images:
    """Attachments a member might pick, stored on the fake CDN (PNG bytes made once per size)."""

    def __init__(self, h: BotHarness) -> None:
        self.h = h
        self._png: dict[tuple[int, int], bytes] = {}

    def _bytes(self, width: int, height: int) -> bytes:
        key = (width, height)
        if key not in self._png:
            self._png[key] = png_bytes(width, height)
        return self._png[key]

    def pick(self, rng: random.Random) -> tuple[StoredAttachment, str | None]:
        """An attachment and, when it must be refused before anything is sent, why."""
        fake, channel = self.h.fake, self.h.channel.id
        kind = rng.choice(ATTACHMENT_KINDS)
        if kind == "ok":
            w, h = rng.choice(((640, 480), (480, 640), (512, 512), (1280, 720)))
            return fake.add_attachment(channel, "photo.png", self._bytes(w, h), ephemeral=True), None
        if kind == "webp":  # WebP by name and type; Discord reports its size from metadata
            data = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)
            return fake.add_attachment(
                channel, "pic.webp", data, content_type="image/webp", width=800, height=600, ephemeral=True
            ), None
        if kind == "tiny":
            side = rng.choice((1, 16, 300))
            return fake.add_attachment(channel, "tiny.png", self._bytes(side, side), ephemeral=True), "small"
        if kind == "thin":
            return fake.add_attachment(channel, "thin.png", self._bytes(320, 1200), ephemeral=True), "aspect"
        if kind == "wide":
            return fake.add_attachment(
                channel,
                "wide.jpg",
                b"\xff\xd8\xff" + bytes(64),
                content_type="image/jpeg",
                width=4000,
                height=400,
                ephemeral=True,
            ), "aspect"
        if kind == "huge_file":
            return fake.add_attachment(
                channel, "big.png", self._bytes(640, 480), size=25 * MIB, ephemeral=True
            ), "size"
        if kind == "huge_pixels":  # 8000×6000 by metadata: large but allowed
            return fake.add_attachment(
                channel, "huge.png", self._bytes(640, 480), width=8000, height=6000, ephemeral=True
            ), None
        if kind == "text":
            return fake.add_attachment(
                channel, "notes.txt", b"not an image", content_type="text/plain", ephemeral=True
            ), "type"
        if kind == "gif":
            return fake.add_attachment(
                channel,
                "anim.gif",
                b"GIF89a" + bytes(32),
                content_type="image/gif",
                width=640,
                height=480,
                ephemeral=True,
            ), "type"
        # A .png that is not a PNG: passes the metadata checks, refused when fetched at submit time.
        return fake.add_attachment(
            channel,
            "liar.png",
            b"<html>not a png</html>",
            content_type="image/png",
            width=640,
            height=480,
            ephemeral=True,
        ), None


def make_case(n: int, rng: random.Random, h: BotHarness, members: list[FakeMember], images: Images) -> Case:
    role, admin = h.fake.moderator_role.id, h.admin.id
    case = Case(n, rng.choice(members), {}, {})
    shape = rng.random()
    if shape < 0.08:
        prompt = rng.choice(("", "   ", "\u200b\u200b\u2060", "\n\t"))
        case.invalid.append("prompt:empty")
    elif shape < 0.14:
        prompt = "x" * 2001
        case.invalid.append("prompt:long")
    elif shape < 0.18:
        prompt = "y" * 2000
    else:
        words = [
            rng.choice(UNICODE),
            "a fox in the snow",
            rng.choice(("[Pan left]", "[Push in,Tilt up]", "")),
        ]
        if rng.random() < 0.5:
            words.append(rng.choice(("@everyone", "@here", f"<@&{role}>", f"<@{admin}>", "```", "**bold**")))
        rng.shuffle(words)
        prompt = " ".join(words)
    case.options["prompt"] = prompt

    roll = rng.random()
    if roll < 0.15:
        case.options["model"] = rng.choice(BAD_MODELS).format(role=role)
        case.invalid.append("value:model")
    elif roll < 0.55:
        case.options["model"] = rng.choice(MODELS)
        takes_long = len(prompt) <= MODEL_TABLE[case.options["model"]].max_prompt_chars
        if takes_long and "prompt:long" in case.invalid:
            case.invalid.remove("prompt:long")  # MiniMax-H3 takes up to 7000 characters
    roll = rng.random()
    if roll < 0.1:
        case.options["resolution"] = rng.choice(BAD_RESOLUTIONS)
        case.invalid.append("value:resolution")
    elif roll < 0.4:
        case.options["resolution"] = rng.choice(RESOLUTIONS)
    roll = rng.random()
    if roll < 0.1:
        case.options["duration"] = rng.choice(BAD_DURATIONS)
        case.invalid.append("value:duration")
    elif roll < 0.4:
        case.options["duration"] = rng.choice((6, 10))
    for flag in ("prompt_optimizer", "fast"):
        if rng.random() < 0.3:
            case.options[flag] = rng.random() < 0.5

    for slot, chance in (("first_frame", 0.45), ("last_frame", 0.15), ("subject", 0.12)):
        if rng.random() < chance:
            attachment, problem = images.pick(rng)
            case.attachments[slot] = attachment
            if problem is not None:
                case.invalid.append(f"image:{problem}")
    if "last_frame" in case.attachments and "first_frame" not in case.attachments:
        case.invalid.append("combo:last-without-first")
    if "subject" in case.attachments and ({"first_frame", "last_frame"} & set(case.attachments)):
        case.invalid.append("combo:subject-with-frames")
    if "prompt:empty" in case.invalid and {"first_frame", "subject"} & set(case.attachments):
        case.invalid.remove("prompt:empty")  # image, first+last frame and subject need no prompt
        if not case.options["prompt"]:
            del case.options["prompt"]  # an optional option left blank is not sent at all
    return case


async def run_case(h: BotHarness, case: Case) -> Outcome:
    call = await h.invoke(
        "video generate",
        member=case.member,
        options=case.options,
        attachments=case.attachments,
        validate=case.validate,
    )
    return await wait_answer(call, timeout=20)


async def test_fuzzed_requests_are_all_answered_in_time_and_clearly(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    env = video_env(
        DEFAULT_QUOTA_CREDITS="100000",
        MAX_QUEUED_PER_MEMBER="100000",
        SUBMIT_CONCURRENCY="8",
        LOG_LEVEL="INFO",
    )
    async with (
        FakeMiniMax(flavour="official", speed=2000.0) as minimax,
        BotHarness(tmp_path, minimax=minimax, env=env, expect_commands=("video", "videoadmin")) as h,
    ):
        members = [h.fake.add_member(f"fuzzer{i}") for i in range(8)]
        images = Images(h)
        cases = [make_case(n, rng, h, members, images) for n in range(CASES)]
        outcomes: list[Outcome] = []
        for start in range(0, CASES, BATCH):
            batch = cases[start : start + BATCH]
            outcomes += await asyncio.gather(*(run_case(h, c) for c in batch))

        accepted = {o.task_id: c for c, o in zip(cases, outcomes, strict=True) if o.task_id is not None}
        await wait_tasks_settled(h, accepted, timeout=60)

        def all_told() -> bool:
            told = channel_view(h)
            return all(told.told(t) >= 1 for t in accepted)

        await h.wait_until(all_told, 30, "a result or failure notice for every accepted request")
        view = channel_view(h)
        refusals = Counter(
            (m.group(0) if (m := CLEAR_REFUSALS.search(o.text)) else "UNCLEAR")
            for o in outcomes
            if not o.accepted
        )
        print(
            f"\n=== fuzz figures ===\ncases {CASES}, accepted {len(accepted)}, "
            f"refused {CASES - len(accepted)}; "
            f"results {sum(view.results.values())}, failure notices {sum(view.failures.values())}; "
            f"slowest first answer {max(o.call.response_delay or 0 for o in outcomes):.2f} s\n"
            + "\n".join(f"  {n:4d}  {text}" for text, n in refusals.most_common())
        )

        for case, outcome in zip(cases, outcomes, strict=True):
            where = f"case {case.n} {case.options!r} {sorted(case.attachments)} -> {outcome.text!r}"
            assert outcome.call.response_type == 5 and outcome.call.ephemeral, where
            assert GENERIC_FAILURE not in outcome.text, where
            if case.invalid:
                assert not outcome.accepted, f"{where} should be refused: {case.invalid}"
            if not outcome.accepted:
                assert CLEAR_REFUSALS.search(outcome.text), f"{where}: not a known, clear refusal"
        assert all(view.told(t) == 1 for t in accepted), "each accepted request ends with one notice"

        requester = {t: c.member.id for t, c in accepted.items()}
        for message in bot_messages(h):
            task = result_task(message) or failure_task(message)
            allowed = {f"user:{requester[task]}"} if task in requester else set()
            assert pinged(message) <= allowed, (
                f"message {message.id} pings {pinged(message)}: {message.content!r}"
            )
        assert h.fake.unanswered_interactions() == []
        assert await h.stop() == 0
        h.assert_clean()
