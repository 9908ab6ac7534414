"""The one exponential backoff: every retry delay in the bot (API calls, submits, polls after errors,
deliveries, card edits) is this doubling, each with its own base and ceiling.

A leaf module (it imports nothing), so the API client and the lifecycle share it without either
depending on the other.
"""

from __future__ import annotations

import math

# Beyond this many doublings any real ceiling was passed long ago; stopping here keeps the float
# from overflowing for a caller that counts failures without bound.
_MAX_DOUBLINGS = 64


def backoff(attempt: int, *, base: float, cap: float = math.inf) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first): ``base``, doubled for each
    attempt after the first, never above ``cap``. Jitter, when wanted, is the caller's (a share of
    this ceiling)."""
    return min(cap, base * 2.0 ** (min(attempt, _MAX_DOUBLINGS) - 1))
