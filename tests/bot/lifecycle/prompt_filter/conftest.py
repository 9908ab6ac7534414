"""A filter shared by the prompt-filter tests: words, a regex, a phrase and one broken entry."""

from __future__ import annotations

import pytest

from bot.lifecycle.prompt_filter import CompiledFilter, compile_filter


@pytest.fixture(scope="module")
def sample_filter() -> CompiledFilter:
    return compile_filter(["gore", ("bl[o0]od", True), "big cat", "/[broken/"])
