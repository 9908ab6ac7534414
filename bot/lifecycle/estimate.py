"""How long a video will take: the shipped prior blended with what this bot has seen.

Generation time is modelled as log-normal: ``median`` seconds from submit to success and a
``spread`` (sigma of its logarithm). The prior comes from the catalog
(:func:`bot.catalog.generation_prior`, estimates since MiniMax publishes none) or, when the operator
sets ``POLL_FIRST_DELAY_SECONDS``, from that figure. The bot's own deliveries then take over
smoothly, as a Bayesian update would with the prior worth ``PRIOR_WEIGHT`` observations:

- a delivery of the same model, resolution, duration and mode counts fully;
- a delivery of the same model in another combination counts ``OTHER_WEIGHT``, through its ratio
  to its own prior (a reseller twice as slow on 768P is probably twice as slow on 1080P too).

``log median = (k·log prior + Σ wᵢ·log xᵢ) / (k + Σ wᵢ)``, and the spread blends the same way
(``σ² = (k·σ²_prior + Σ wᵢ·(log xᵢ − log median)²) / (k + Σ wᵢ)``), so after three same-combination
videos the prior has half the say, after thirty a tenth. Pure arithmetic: no storage, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

from bot.catalog import GenerationPrior, generation_prior
from bot.spec import Mode

PRIOR_WEIGHT = 3.0
OTHER_WEIGHT = 0.3
# Below this the schedule would treat a lucky run of identical times as certainty.
MIN_SPREAD = 0.08
# The first query goes out when this share of such videos is done (see bot.lifecycle.timing).
FIRST_QUANTILE = 0.35

_NORMAL = NormalDist()


@dataclass(frozen=True)
class GenerationTime:
    """A log-normal belief about one video's generation time."""

    median: float
    spread: float
    observations: float = 0.0  # the weight of the bot's own deliveries behind it (0: prior only)

    def quantile(self, share: float) -> float:
        """Seconds by which ``share`` of such videos are done."""
        return self.median * math.exp(self.spread * _NORMAL.inv_cdf(share))

    def survival(self, seconds: float) -> float:
        """The share of such videos still unfinished after ``seconds``."""
        if seconds <= 0:
            return 1.0
        return 1.0 - _NORMAL.cdf(math.log(seconds / self.median) / self.spread)

    def conditional_quantile(self, elapsed: float, share: float) -> float | None:
        """The time by which ``share`` of the videos still running at ``elapsed`` are done; None far
        in the tail, where the model says nothing useful (the caller backs off by elapsed time)."""
        remaining = self.survival(elapsed) * (1.0 - share)
        if remaining < 1e-9:
            return None
        return self.median * math.exp(self.spread * _NORMAL.inv_cdf(1.0 - remaining))


def finish_estimate(belief: GenerationTime, *, after: float, by: float) -> float:
    """When a task most likely finished, in seconds since submit, knowing only that a query at
    ``after`` saw it running (0: none did) and the one at ``by`` saw it done.

    The poll's own delay must not be learned as generation time (it would push every later first
    query later, and the delay with it): the belief's median within that interval is.
    """
    if by <= after:
        return by
    low, high = 1.0 - belief.survival(after), 1.0 - belief.survival(by)
    if not 0.0 < (low + high) / 2 < 1.0 or high - low < 1e-9:
        return (after + by) / 2  # outside what the belief says anything about
    return min(by, max(after, belief.quantile((low + high) / 2)))


@dataclass(frozen=True)
class Delivered:
    """One past delivery of the model, as the blend reads it."""

    mode: Mode
    resolution: str | None
    duration: int | None
    seconds: float


def prior_for(
    model: str,
    mode: Mode,
    resolution: str | None,
    duration: int | None,
    *,
    first_delay: float | None = None,
    scale: float = 1.0,
) -> GenerationPrior:
    """The catalog's prior, or one whose first query falls at the operator's ``first_delay``.

    ``scale`` multiplies the catalog's figures (a benchmark on a fast clock; 1 in production).
    """
    prior = generation_prior(model, mode, resolution, duration)
    if first_delay is None:
        return GenerationPrior(prior.median * scale, prior.spread, prior.published)
    # The operator names the first query's delay: the median that puts it there.
    shift = math.exp(-prior.spread * _NORMAL.inv_cdf(FIRST_QUANTILE))
    return GenerationPrior(first_delay * shift, prior.spread)


def blend(
    model: str,
    mode: Mode,
    resolution: str | None,
    duration: int | None,
    history: Iterable[Delivered],
    *,
    first_delay: float | None = None,
    scale: float = 1.0,
) -> GenerationTime:
    """The belief for one combination from the prior and the model's past deliveries."""
    prior = prior_for(model, mode, resolution, duration, first_delay=first_delay, scale=scale)
    points: list[tuple[float, float]] = []  # (weight, log seconds as if of this combination)
    for past in history:
        if past.seconds <= 0:
            continue
        if (past.mode, past.resolution, past.duration) == (mode, resolution, duration):
            points.append((1.0, math.log(past.seconds)))
            continue
        own = prior_for(
            model, past.mode, past.resolution, past.duration, first_delay=first_delay, scale=scale
        )
        points.append((OTHER_WEIGHT, math.log(prior.median * past.seconds / own.median)))
    weight = sum(w for w, _ in points)
    total = PRIOR_WEIGHT + weight
    log_median = (PRIOR_WEIGHT * math.log(prior.median) + sum(w * x for w, x in points)) / total
    variance = (PRIOR_WEIGHT * prior.spread**2 + sum(w * (x - log_median) ** 2 for w, x in points)) / total
    return GenerationTime(
        median=math.exp(log_median), spread=max(MIN_SPREAD, math.sqrt(variance)), observations=weight
    )
