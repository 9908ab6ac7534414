"""The MiniMax Hailuo video API: client, response parsing, pacing, errors.

Speaks HTTP with ``aiohttp`` and returns typed results; it knows nothing of tasks, credits or members.
May import only ``aiohttp``/``yarl``, itself and the plain :mod:`bot.spec` it sends: no ``discord``, no
``cogs`` (ruff TID251), and nothing from ``storage`` or ``bot.lifecycle``, which build on it.
"""
