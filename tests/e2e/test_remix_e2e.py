"""Remix end to end: another member clicks Remix on a result, edits the prompt, and pays for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import BotHarness
from tests.e2e.video_flow import card_of, generate, read_db, video_env, wait_answer, wait_delivered
from tests.fakes.fake_minimax import FakeMiniMax

pytestmark = pytest.mark.e2e


def _text_inputs(component: Any) -> list[dict[str, Any]]:
    if isinstance(component, dict):
        if component.get("type") == 4:
            return [component]
        return [found for value in component.values() for found in _text_inputs(value)]
    if isinstance(component, list):
        return [found for value in component for found in _text_inputs(value)]
    return []


async def test_another_member_remixes_a_result_and_pays_for_it(tmp_path: Path) -> None:
    async with (
        FakeMiniMax(speed=400.0) as minimax,
        BotHarness(tmp_path, minimax=minimax, env=video_env(), expect_commands=("video", "videoadmin")) as h,
    ):
        outcome = await generate(h, h.member, prompt="a paper boat on a rainy street")
        assert outcome.accepted and outcome.task_id is not None, outcome.text
        original = await wait_delivered(h, outcome.task_id)
        assert f"video:remix:{outcome.task_id}" in original.custom_ids

        other = h.fake.add_member("rosa")
        opened = await h.click(original, f"video:remix:{outcome.task_id}", other)
        await opened.wait_response()
        assert opened.response_type == 9 and opened.modal is not None
        [prompt] = _text_inputs(opened.modal)
        assert prompt["value"] == "a paper boat on a rainy street"
        submitted = await h.submit_modal(opened, {prompt["custom_id"]: "a paper boat on a sunny street"})
        remix = await wait_answer(submitted)
        assert remix.accepted and remix.task_id is not None, remix.text
        await wait_delivered(h, remix.task_id)

        assert [body["prompt"] for body in minimax.submissions] == [
            "a paper boat on a rainy street",
            "a paper boat on a sunny street",
        ]
        card = card_of(h, remix.task_id)
        assert card is not None and "Remix of" in card.text and f"<@{h.member.id}>" in card.text
        assert f"/{original.id})" in card.text, "linked to the original result"
        assert await h.stop() == 0
        tasks, ledger, _integrity = read_db(h.database_path)
        assert tasks[remix.task_id].user_id == other.id, "the clicker pays"
        assert set(ledger.charged) == {outcome.task_id, remix.task_id}
        h.assert_clean()
