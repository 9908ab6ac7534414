"""Regular expressions that could stall the bot, refused before they run; a time budget for the rest.

Python's ``re`` backtracks: a nested repetition such as ``(a+)+$`` takes exponential time on
``"aaaa…!"``, and two repetitions able to share the same characters (``\\w+\\s*\\w+x``, ``.*a.*b``)
take cubic time over a search. Matching runs on the event loop, so a moderator's regex plus a
member's crafted prompt would freeze the whole bot. The parse tree is inspected at ``filter add``
(and again at every compile, for entries stored earlier) and such shapes are refused, as is a
leading unbounded repetition (quadratic over a search). What remains costs about the prompt's length
times one repetition's reach, which the prompt limit keeps small.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any

# All entries together get this long on one prompt. The shape check below refuses the regexes known to
# backtrack badly, but no static check catches them all; past the budget the prompt is refused (the
# filter fails closed) and the entry that ran out is logged for the moderators to simplify.
MATCH_BUDGET_SECONDS = 0.25

# A repetition allowing more copies than this counts as unbounded when two meet side by side.
_WIDE_REPEAT = 20
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
_GROUP_REFERENCES = frozenset(
    {"GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE", "GROUPREF_UNI_IGNORE"}
)
_ZERO_WIDTH = frozenset({"AT", "ASSERT", "ASSERT_NOT"})
# Characters the overlap test tries besides those the pattern names: one of each kind a category holds.
_PROBES = "az_059\u00e9\u0436\u0663 \t\n\u00a0\u3000.,-!'\"/"

Node = tuple[Any, Any]  # (opcode, argument) as Python's regex parser returns them


def _load_parser() -> ModuleType | None:
    """Python's own regex parser: ``re._parser`` since 3.11 (``sre_parse`` before)."""
    for name in ("re._parser", "sre_parse"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


_PARSER = _load_parser()


def regex_risk(pattern: str) -> str | None:
    """Why ``pattern`` could backtrack for a very long time on some prompt, or ``None`` if it cannot.

    ``pattern`` must already compile. Conservative: when in doubt, it reports a risk.
    """
    if _PARSER is None:
        return "this Python version offers no way to check it; use words instead"
    try:
        parsed = list(_PARSER.parse(pattern, re.IGNORECASE))
    except Exception:  # the parser is internal: any surprise means "cannot vouch for it"
        return "it could not be checked"
    probes = frozenset(_PROBES) | frozenset(_named_chars(parsed))
    return _sequence_risk(parsed, probes) or _leading_repeat_risk(_flatten(parsed), probes)


def _leading_repeat_risk(items: list[Node], probes: frozenset[str]) -> str | None:
    """A search tries every start, so a leading unbounded repetition costs the square of the run it
    can cover. One that spans words (``.*``, ``[^x]+``) covers the whole prompt, which normalisation
    can make 18 times longer (one Arabic ligature becomes 18 letters and spaces): seconds. It adds
    nothing to a filter either: ``/.*x/`` refuses exactly what ``/x/`` does. One confined to a word
    (``\\w+``, ``[a-z]+``) covers one word: cheap, and allowed."""
    for node in items:
        op = _op(node)
        if op == "AT" and str(getattr(node[1], "name", node[1])) in ("AT_BEGINNING", "AT_BEGINNING_STRING"):
            return None  # anchored: one start only
        chars = _chars(node, probes)
        if _is_wide(node) and " " in chars and any(not c.isspace() for c in chars):  # spans words
            return "it starts with a repetition, which a search does not need: write /x/ rather than /.*x/"
        if not _is_nullable(node):
            return None
    return None


def _op(node: Node) -> str:
    return str(getattr(node[0], "name", node[0]))


def _children(node: Node) -> list[list[Node]]:
    """The sub-sequences inside ``node``: a repeat's body, a group's, each alternative, a lookaround's."""
    op, arg = _op(node), node[1]
    if op in _REPEATS:
        return [list(arg[2])]
    if op == "SUBPATTERN":
        return [list(arg[3])]
    if op == "BRANCH":
        return [list(alt) for alt in arg[1]]
    if op == "ATOMIC_GROUP":
        return [list(arg)]
    if op in ("ASSERT", "ASSERT_NOT"):
        return [list(arg[1])]
    if op == "GROUPREF_EXISTS":
        return [list(part) for part in arg[1:] if part is not None]
    return []


def _walk(nodes: Iterable[Node]) -> Iterator[Node]:
    for node in nodes:
        yield node
        for child in _children(node):
            yield from _walk(child)


def _named_chars(nodes: Iterable[Node]) -> Iterator[str]:
    for node in _walk(nodes):
        op, arg = _op(node), node[1]
        if op in ("LITERAL", "NOT_LITERAL"):
            yield chr(arg)
        elif op == "IN":
            for item in arg:
                if _op(item) in ("LITERAL", "NOT_LITERAL"):
                    yield chr(item[1])
                elif _op(item).startswith("RANGE"):
                    yield chr(item[1][0])
                    yield chr(item[1][1])


def _sequence_risk(nodes: list[Node], probes: frozenset[str]) -> str | None:
    for node in nodes:
        op, arg = _op(node), node[1]
        if op in _GROUP_REFERENCES:
            return "it uses a back-reference"
        if (
            op in _REPEATS
            and arg[1] > 1
            and any(
                _op(inner) in _REPEATS or _op(inner) == "BRANCH"
                for child in _children(node)
                for inner in _walk(child)
            )
        ):
            return "it repeats something that itself repeats or has alternatives"
        for child in _children(node):
            risk = _sequence_risk(child, probes)
            if risk is not None:
                return risk
    return _side_by_side_risk(_flatten(nodes), probes)


def _flatten(nodes: Iterable[Node]) -> list[Node]:
    """The sequence as matched: plain and atomic groups opened up, so their items meet their neighbours."""
    flat: list[Node] = []
    for node in nodes:
        op = _op(node)
        if op == "SUBPATTERN":
            flat.extend(_flatten(node[1][3]))
        elif op == "ATOMIC_GROUP":
            flat.extend(_flatten(node[1]))
        else:
            flat.append(node)
    return flat


def _side_by_side_risk(items: list[Node], probes: frozenset[str]) -> str | None:
    """Two unbounded repetitions that could share characters, with only what either absorbs between."""
    for i, first in enumerate(items):
        if not _is_wide(first):
            continue
        shared = _chars(first, probes)
        for later in items[i + 1 :]:
            chars = _chars(later, probes)
            if _is_wide(later) and chars & shared:
                return "two repetitions can match the same characters side by side"
            if not (_is_nullable(later) or chars <= shared):
                break  # something ``first`` cannot swallow separates it from what follows
    return None


def _is_wide(node: Node) -> bool:
    op = _op(node)
    if op in _ZERO_WIDTH:
        return False
    if op in _REPEATS and node[1][1] > _WIDE_REPEAT:
        return True
    return any(_is_wide(inner) for child in _children(node) for inner in child)


def _is_nullable(node: Node) -> bool:
    op, arg = _op(node), node[1]
    if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
        return False
    if op in _REPEATS:
        return bool(arg[0] == 0) or all(_is_nullable(inner) for inner in arg[2])
    if op == "BRANCH":
        return any(all(_is_nullable(inner) for inner in alt) for alt in arg[1])
    if op in ("SUBPATTERN", "ATOMIC_GROUP"):
        return all(_is_nullable(inner) for child in _children(node) for inner in child)
    return True  # zero-width assertions, and anything unknown (the cautious answer here)


def _chars(node: Node, probes: frozenset[str]) -> frozenset[str]:
    """Which probe characters ``node`` can consume (case-insensitively, as the filter compiles it)."""
    op = _op(node)
    if op in _ZERO_WIDTH:
        return frozenset()
    if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
        return frozenset(ch for ch in probes if _single_matches(node, ch))
    children = _children(node)
    if not children:
        return probes  # unknown: assume it can match anything
    return frozenset().union(*(_chars(inner, probes) for child in children for inner in child))


def _cases(ch: str) -> set[str]:
    return {c for c in (ch, ch.lower(), ch.upper()) if len(c) == 1}


def _single_matches(node: Node, ch: str) -> bool:
    op, arg = _op(node), node[1]
    if op == "LITERAL":
        return chr(arg) in _cases(ch) or ch in _cases(chr(arg))
    if op == "NOT_LITERAL":
        return not _single_matches(("LITERAL", arg), ch)
    if op == "ANY":
        return True
    if op == "CATEGORY":
        return _category_matches(arg, ch)
    if op == "IN":
        negate = any(_op(item) == "NEGATE" for item in arg)
        hit = any(_set_item_matches(item, ch) for item in arg if _op(item) != "NEGATE")
        return hit != negate
    return True


def _set_item_matches(item: Node, ch: str) -> bool:
    op, arg = _op(item), item[1]
    if op == "LITERAL":
        return _single_matches(item, ch)
    if op.startswith("RANGE"):
        return any(arg[0] <= ord(c) <= arg[1] for c in _cases(ch))
    if op == "CATEGORY":
        return _category_matches(arg, ch)
    return True


def _category_matches(category: Any, ch: str) -> bool:
    name = str(getattr(category, "name", category))
    for prefix in ("CATEGORY_", "UNI_", "LOC_"):
        name = name.removeprefix(prefix)
    negated = name.startswith("NOT_")
    kind = name.removeprefix("NOT_")
    if kind == "DIGIT":
        hit = ch.isdecimal()
    elif kind == "SPACE":
        hit = ch.isspace()
    elif kind == "WORD":
        hit = ch.isalnum() or ch == "_"
    elif kind == "LINEBREAK":
        hit = ch == "\n"
    else:
        return True
    return hit != negated
