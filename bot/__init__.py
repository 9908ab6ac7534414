"""Hailuo video bot: Discord slash commands in, MiniMax videos out. The core, with no Discord in it.

- ``bot/spec.py``: the ``VideoSpec``, the one description of a video, from the command to the API.
- ``bot/catalog.py``: models, modes, durations, resolutions, prices and credits: one table.
- ``bot/lifecycle/``: the video service and the task lifecycle (validate, reserve, submit, poll, deliver).
- ``bot/minimax/``: the MiniMax API client (wire formats, errors, rate limits).
- ``bot/charts.py``: the `/videoadmin stats` chart (matplotlib, Agg): plain figures in, PNG bytes out.
- ``bot/config.py``: settings, loaded and checked once; ``bot/check.py``: ``python -m bot --check``.
- ``bot/metrics.py``: the Prometheus metrics (one registry per bot); ``bot/metrics_server.py``: the
  ``METRICS_PORT`` endpoints (``/metrics``, ``/healthz``, ``/readyz``).
- ``bot/__main__.py`` and ``bot/app.py``: the composition root and the discord.py bot. They alone
  may import ``discord`` and ``cogs``, to wire the cogs to the rest.

Everything else here imports no ``discord`` and nothing from ``cogs/``, and reaches the database
only through :class:`storage.Storage` (no ``aiosqlite``, no ``storage.db``). Ruff's banned-api rule
(TID251, configured in pyproject.toml) refuses any import that breaks this.
"""
