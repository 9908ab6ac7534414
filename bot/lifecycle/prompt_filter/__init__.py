"""A guild's prompt filter: words and regular expressions matched on a normalised prompt.

Three modules, each with one job; callers import from here:

- :mod:`.normalization` folds look-alike letters, accents, invisible characters and spelled-out
  words, the same way for entries and prompts, so an entry written plainly still catches them.
- :mod:`.entries` parses and validates what moderators type (a word or phrase, or ``/a regex/``),
  compiles a guild's entries once and matches prompts against them within a time budget.
- :mod:`.backtracking` refuses regular expressions that could backtrack for minutes on a crafted
  prompt (:func:`regex_risk`): matching runs on the event loop, where one slow match stalls the bot.

Plain text in, plain text out: no Discord, no storage.
"""

from bot.lifecycle.prompt_filter.backtracking import MATCH_BUDGET_SECONDS, regex_risk
from bot.lifecycle.prompt_filter.entries import (
    MAX_ENTRY_CHARS,
    MAX_TYPED_ENTRY_CHARS,
    CompiledFilter,
    FilterEntryError,
    FilterRule,
    compile_entry,
    compile_filter,
    compile_filter_cached,
    display_entry,
    matches,
    parse_entry,
)
from bot.lifecycle.prompt_filter.normalization import normalize

__all__ = [
    "MATCH_BUDGET_SECONDS",
    "MAX_ENTRY_CHARS",
    "MAX_TYPED_ENTRY_CHARS",
    "CompiledFilter",
    "FilterEntryError",
    "FilterRule",
    "compile_entry",
    "compile_filter",
    "compile_filter_cached",
    "display_entry",
    "matches",
    "normalize",
    "parse_entry",
    "regex_risk",
]
