"""Slash-command texts (descriptions and choice names) by language, for :mod:`cogs.translator`.

One plain module per language, each a ``DESCRIPTIONS`` mapping keyed by the English text itself:
the English in the code is the reference, so a new or reworded description shows up as a missing
key in ``tests/cogs/test_translator.py`` rather than as a silently stale translation.
"""
