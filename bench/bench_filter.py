"""Prompt filter benchmark: the worst time one prompt costs, normalisation included.

Matching runs on the event loop within ``MATCH_BUDGET_SECONDS`` (0.25 s), and the budget covers
normalising the prompt too. This prints, for prompts of the longest length a member may send
(``MAX_PROMPT_CHARS``, 2,000 characters) built to be expensive:

1. Normalisation alone (every reading of the prompt: both capital foldings, squeezed), worst prompt.
2. Each accepted regular expression (those the shape check lets through, including the entries the
   tests accept) against every hostile prompt: the worst pair.
3. A full filter of 200 word entries (the per-server maximum) against every hostile prompt.

Run: ``.venv/bin/python bench/bench_filter.py``. Figures are the best of ``--repeat`` runs (default 3).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from bot.catalog import MAX_PROMPT_CHARS
from bot.lifecycle.prompt_filter import MATCH_BUDGET_SECONDS, compile_filter, matches, regex_risk
from bot.lifecycle.prompt_filter.normalization import prompt_variants

N = MAX_PROMPT_CHARS


def _fill(unit: str, tail: str = "") -> str:
    return (unit * (N // len(unit) + 1))[: N - len(tail)] + tail


HOSTILE: dict[str, str] = {
    "a×2000 + !": _fill("a", "!"),
    "n×2000": _fill("n"),
    "nu×1000": _fill("nu"),
    "n-×1000 + x": _fill("n-", "x"),
    "n/u/d/ repeated": _fill("n/u/d/"),
    "spaces": _fill(" ", "x"),
    "_ run": _fill("_", "ab"),
    "• run": _fill("•", "ab"),
    "a b c … spelled out": _fill("a "),
    "1.2.3. digits": _fill("1."),
    "word word": _fill("nude pic "),
    "ﷺ ligature ×2000 (18× longer once folded)": _fill("\ufdfa"),
    "🅽 enclosed ×1000": _fill("🅽"),
    "🇳🇺 regional ×1000": _fill("🇳🇺"),
    "zero-width between letters": _fill("n\u200b"),
    "Cyrillic look-alikes": _fill("пսdе "),
}

# The regexes the tests accept, and a few more shaped to be as slow as the check still allows.
ACCEPTED = [
    r"\bnsfw\b",
    r"gore|blood",
    r"n[u0]de",
    r"(a|b)+c",
    r"how\s+to\s+make\s+a\s+bomb",
    r"n+u+d+e+",
    r"nude.*pic",
    r"\bn[\W_]*u[\W_]*d[\W_]*e\b",
    r"\d+\.\d+",
    r"k[i1!]ll(s|ed|ing)?",
    r"^.*x",
    r"\w+nude",
    r"\s+x",
    r"(?:\s|^)nude",
    r"a{1,20}b{1,20}c",
    r"(?:n|u|d|e){1,20}x",
    r"\w+\s+x",
    r"[a-z]+\d",
    r"n.{0,20}u.{0,20}d.{0,20}e",
]

WORDS = [f"word{i:03d}" for i in range(190)] + [
    "nude",
    "kill",
    "gore",
    "die",
    "pussy",
    "sex",
    "ass",
    "cat",
    "bee",
    "kiss",
]


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    norm = {name: best(lambda p=p: prompt_variants(p), args.repeat) for name, p in HOSTILE.items()}
    worst_norm = max(norm, key=lambda k: norm[k])
    print(f"1. normalisation, {N}-character prompts: worst {norm[worst_norm] * 1000:.1f} ms ({worst_norm})")

    rejected = [r for r in ACCEPTED if regex_risk(r) is not None]
    if rejected:
        print(f"   (not accepted by the shape check, left out: {rejected})")
    worst = (0.0, "", "")
    for pattern in (r for r in ACCEPTED if r not in rejected):
        compiled = compile_filter([(pattern, True)])
        for name, prompt in HOSTILE.items():
            t = best(lambda c=compiled, p=prompt: matches(c, p, budget=60.0), args.repeat)
            worst = max(worst, (t, pattern, name))
    print(
        f"2. worst accepted regex, normalisation included: {worst[0] * 1000:.1f} ms "
        f"(/{worst[1]}/ on '{worst[2]}'); budget {MATCH_BUDGET_SECONDS * 1000:.0f} ms"
    )

    words = compile_filter(WORDS)
    full = {
        name: best(lambda p=p: matches(words, p, budget=60.0), args.repeat) for name, p in HOSTILE.items()
    }
    worst_full = max(full, key=lambda k: full[k])
    print(
        f"3. {len(WORDS)} word entries, normalisation included: worst {full[worst_full] * 1000:.1f} ms "
        f"({worst_full})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
