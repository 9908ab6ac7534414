"""The operator's bot-wide spending ceiling, from dollars (the setting) to credits (the ledger).

Storage counts credits (integer tenths) and knows no prices, so the ``SPEND_LIMIT_USD`` ceiling is
converted here with the catalog, rounding down: the conversion never lets the bot spend more than
the operator wrote. Admission passes it into the reservation; `/videoadmin stats` shows it.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR

from bot.catalog import usd_to_credit_tenths
from bot.config import Settings
from storage.models import SpendCeiling


def spend_ceiling(settings: Settings) -> SpendCeiling | None:
    """``None`` when the operator set no ceiling."""
    if settings.spend_limit_usd is None:
        return None
    tenths = usd_to_credit_tenths(settings.spend_limit_usd, rounding=ROUND_FLOOR)
    return SpendCeiling(tenths, settings.spend_limit_period)
