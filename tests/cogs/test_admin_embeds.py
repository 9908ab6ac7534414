"""The pure pieces of `/videoadmin`: value parsing and text rendering."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.catalog import format_usd as usd
from bot.catalog import spent_usd
from bot.lifecycle.moderation import ModerationRefused
from bot.lifecycle.moderation.values import credits_to_tenths, parse_cap, parse_models, possible_videos
from cogs.admin_embeds import describe_audit, sparkline, target_text
from cogs.text import lines_within
from storage import DeliveredCombo


@pytest.mark.parametrize(
    ("raw", "tenths"), [(0, 0), (2.5, 25), ("3", 30), (" 0.1 ", 1), (10_000, 100_000), (1e-1, 1)]
)
def test_credits_become_tenths(raw: float | str, tenths: int) -> None:
    assert credits_to_tenths(raw, option="credits") == tenths


@pytest.mark.parametrize("raw", [-0.1, 2.25, 10_000.1, "abc", "inf", float("nan"), ""])
def test_bad_credits_are_refused(raw: float | str) -> None:
    with pytest.raises(ModerationRefused):
        credits_to_tenths(raw, option="credits")


@pytest.mark.parametrize(
    "raw",
    [
        "1.0000000000000000000000000000001",
        "0.10000000000000000000000000000001",
        "9999.99999999999999999999999999",
    ],
)
def test_credits_finer_than_a_tenth_are_refused_however_many_digits(raw: str) -> None:
    """``amount * 10`` rounds to Decimal's 28 digits: these became whole tenths and were accepted."""
    with pytest.raises(ModerationRefused, match="at most one decimal"):
        credits_to_tenths(raw, option="cap", maximum=1_000_000)


def test_cap_words_clear_it() -> None:
    assert parse_cap("none") is None and parse_cap("0") is None and parse_cap(" Off ") is None
    assert parse_cap("12.5") == 125


def test_models_are_checked_and_spelled_as_the_table() -> None:
    assert parse_models("all") == ()
    assert parse_models("t2v-01 , T2V-01;minimax-hailuo-02") == ("T2V-01", "MiniMax-Hailuo-02")
    with pytest.raises(ModerationRefused, match="Unknown models: a, b"):
        parse_models("a, MiniMax-Hailuo-02, b")


def test_possible_videos_counts_what_a_policy_leaves() -> None:
    assert possible_videos(("MiniMax-Hailuo-2.3",), "512P", None) == 0
    assert possible_videos(("MiniMax-Hailuo-02",), "512P", 6) == 1  # image-to-video at 512P 6 s
    # Every (model, mode, resolution, duration) in the table: 26 on V1, then MiniMax-H3's 4 modes ×
    # 2 resolutions × 12 durations plus its upscale (2K × 12 durations) and MiniMax-H3-Max's 3 modes
    # × 2 resolutions × 11 durations.
    assert possible_videos((), None, None) == 26 + 96 + 12 + 66
    assert possible_videos((), None, 6) == 19 + 24 + 3 + 12  # V1; H3 at 4-6 s (+ upscale); H3-Max 5-6 s
    assert possible_videos(("Retired-Model",), None, None) == 0


def test_sparkline_scales_to_the_largest_value() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""
    assert sparkline([3]) == "█"


def test_lines_within_keeps_whole_lines_and_counts_the_rest() -> None:
    lines = [f"line {i:02d}" for i in range(10)]  # 7 characters each
    assert lines_within(lines, 1000) == "\n".join(lines)
    cut = lines_within(lines, 40)
    assert cut.endswith("…and 7 more") and cut.startswith("line 00\nline 01\nline 02\n")
    assert len(cut) <= 40


def test_audit_rendering() -> None:
    assert target_text("user:5") == "<@5>" and target_text("role:6") == "<@&6>"
    assert target_text("channel:7") == "<#7>" and target_text("guild") == "the server"
    assert describe_audit(
        {"credits_tenths": 25, "period": None}, {"credits_tenths": 30, "period": "week"}
    ) == ("credits: 2.5 → 3; period: — → week")
    assert describe_audit({"user_id": 1, "reason": None}, None) == "removed"
    assert describe_audit({"value": True}, {"value": False}) == "rule: True → False"


def test_dollars_come_from_the_price_table_per_combination() -> None:
    combos = [
        DeliveredCombo("MiniMax-Hailuo-2.3", "768P", 6, delivered=3, credits_tenths=30),
        DeliveredCombo("MiniMax-Hailuo-02", "1080P", 6, delivered=2, credits_tenths=36),
        DeliveredCombo("T2V-01", None, None, delivered=1, credits_tenths=15),  # fixed output: one price
    ]
    # 3 × 0.28 + 2 × 0.49 + 0.43; credits × $0.28 would say 8.1 × 0.28 = $2.268.
    assert spent_usd(combos) == (Decimal("2.25"), True)
    assert usd(spent_usd(combos)[0]) == "$2.25"
    assert spent_usd([]) == (Decimal(0), True)


def test_unknown_combinations_fall_back_to_credits_and_say_so() -> None:
    total, exact = spent_usd(
        [
            DeliveredCombo("Retired-Model", "720P", 6, delivered=2, credits_tenths=20),
            DeliveredCombo("MiniMax-Hailuo-2.3", "512P", 6, delivered=1, credits_tenths=5),
            DeliveredCombo("MiniMax-Hailuo-2.3", "768P", 6, delivered=1, credits_tenths=10),
        ]
    )
    assert (total, exact) == (Decimal("0.98"), False)  # 2.5 credits at $0.28, plus $0.28 from the table
