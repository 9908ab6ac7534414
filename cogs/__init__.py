"""Discord's side: slash-command cogs, their views and embeds, and the Discord notifier.

Thin adapters between Discord interactions and the services in ``bot``: the cogs parse options,
call a service and render its plain answer; :mod:`cogs.notifier` is the lifecycle's
:class:`~bot.lifecycle.Notifier` on Discord, and :mod:`cogs.followups` keeps interaction follow-ups.

May import ``discord``, ``bot`` (never ``bot.app`` at run time: it loads the cogs) and ``storage``'s
values; never ``aiosqlite`` or ``storage.db`` (ruff TID251, cogs/ruff.toml). Of bot/ and storage/,
only ``bot/app.py`` imports this package.
"""
