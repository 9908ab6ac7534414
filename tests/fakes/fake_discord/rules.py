"""Discord's rules the fake enforces: limits, flags, permission bits, and the checks on messages,
modals and command schemas (each returns the list of problems a request has)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

MIB = 1024 * 1024
API = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
DEFAULT_UPLOAD_LIMIT = 10 * MIB
RESPONSE_DEADLINE_SECONDS = 3.0
TOKEN_LIFETIME_SECONDS = 15 * 60.0
# Upload limit per server boost tier, as discord.py's Guild.filesize_limit reports it.
PREMIUM_UPLOAD_LIMITS = {0: DEFAULT_UPLOAD_LIMIT, 1: DEFAULT_UPLOAD_LIMIT, 2: 50 * MIB, 3: 100 * MIB}

# Sharding: a session identified with ``shard: [shard_id, shard_count]`` hears only its own guilds
# (and, on shard 0, the DMs); one session may hold at most this many guilds (else close 4011).
MAX_GUILDS_PER_SHARD = 2500
GUILDS_PER_RECOMMENDED_SHARD = 1000  # /gateway/bot's ``shards``: Discord's rough one per thousand
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's formula: the shard whose session receives a guild's events."""
    return (guild_id >> 22) % shard_count


def shard_problem(shard: Any) -> str | None:
    """What is wrong with IDENTIFY's ``shard`` field (None: nothing, or no field at all)."""
    if shard is None:
        return None
    if (
        not isinstance(shard, list)
        or len(shard) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
    ):
        return f"IDENTIFY with a shard that is not [shard_id, shard_count]: {shard!r}"
    shard_id, count = shard
    if count < 1 or not 0 <= shard_id < count:
        return f"IDENTIFY with an invalid shard {shard!r}: shard_id must be from 0 to shard_count - 1"
    return None


class Perm:
    """Permission bits as Discord numbers them (only the ones this fake hands out)."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40
    ALL = (1 << 53) - 1

    EVERYONE_DEFAULT = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | SEND_MESSAGES_IN_THREADS
    )
    BOT_DEFAULT = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY


class InteractionType:
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CallbackType:
    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class MessageFlag:
    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    COMPONENTS_V2 = 1 << 15


# --------------------------------------------------------------------------------------------------
# Images: PNG bytes without any imaging library, so tests can hand the bot real pictures of any size.
# --------------------------------------------------------------------------------------------------


def _walk_components(components: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        for key in ("component", "accessory"):
            child = component.get(key)
            if isinstance(child, Mapping):
                yield from _walk_components([child])


def message_problems(payload: Mapping[str, Any], *, creating: bool, file_count: int = 0) -> list[str]:
    """Every rule of Discord's a message payload breaks; empty when Discord would accept it."""
    problems: list[str] = []
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        problems.append("content must be a string")
    elif content is not None and len(content) > 2000:
        problems.append(f"content is {len(content)} characters (limit 2000)")
    embeds = payload.get("embeds") or []
    problems += _embed_problems(embeds)
    flags = int(payload.get("flags") or 0)
    problems += _component_problems(
        payload.get("components") or [], v2=bool(flags & MessageFlag.COMPONENTS_V2)
    )
    problems += _allowed_mentions_problems(payload.get("allowed_mentions"))
    if creating:
        has_something = bool(content) or bool(embeds) or bool(payload.get("components")) or file_count > 0
        has_something = has_something or bool(payload.get("sticker_ids")) or bool(payload.get("poll"))
        if not has_something:
            problems.append("cannot send an empty message")
    return problems


def _embed_problems(embeds: list[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds (limit 10)")
    total = 0
    for i, embed in enumerate(embeds):
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                problems.append(f"embed {i} {key} is {len(value)} characters (limit {limit})")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append(f"embed {i} has {len(fields)} fields (limit 25)")
        for j, f in enumerate(fields):
            name, value = f.get("name") or "", f.get("value") or ""
            total += len(name) + len(value)
            if not name or not value:
                problems.append(f"embed {i} field {j} needs a name and a value")
            if len(name) > 256:
                problems.append(f"embed {i} field {j} name is {len(name)} characters (limit 256)")
            if len(value) > 1024:
                problems.append(f"embed {i} field {j} value is {len(value)} characters (limit 1024)")
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > 2048:
            problems.append(f"embed {i} footer is {len(footer)} characters (limit 2048)")
        if len(author) > 256:
            problems.append(f"embed {i} author name is {len(author)} characters (limit 256)")
    if total > 6000:
        problems.append(f"embeds hold {total} characters in total (limit 6000)")
    return problems


def _component_problems(components: list[Mapping[str, Any]], *, v2: bool) -> list[str]:
    problems: list[str] = []
    if not v2:
        if len(components) > 5:
            problems.append(f"{len(components)} action rows (limit 5)")
        for i, row in enumerate(components):
            if row.get("type") != 1:
                problems.append(f"top-level component {i} is type {row.get('type')}, not an action row")
                continue
            children = row.get("components") or []
            if not children or len(children) > 5:
                problems.append(f"action row {i} holds {len(children)} components (1 to 5)")
            if any(c.get("type") != 2 for c in children) and len(children) > 1:
                problems.append(f"action row {i} mixes a select menu with other components")
    elif sum(1 for _ in _walk_components(components)) > 40:
        problems.append("more than 40 components")
    for component in _walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id is not None and not 1 <= len(custom_id) <= 100:
            problems.append(f"custom_id {custom_id[:40]!r}… is {len(custom_id)} characters (1 to 100)")
        if component.get("type") == 2:
            label = component.get("label") or ""
            if len(label) > 80:
                problems.append(f"button label is {len(label)} characters (limit 80)")
            if component.get("style") == 5:
                if not component.get("url"):
                    problems.append("a link button needs a url")
            elif component.get("style") != 6 and custom_id is None:
                problems.append("a button needs a custom_id")
        if component.get("type") in (3, 5, 6, 7, 8):
            options = component.get("options") or []
            if len(options) > 25:
                problems.append(f"select menu has {len(options)} options (limit 25)")
    return problems


def _allowed_mentions_problems(allowed: Any) -> list[str]:
    if allowed is None:
        return []
    if not isinstance(allowed, Mapping):
        return ["allowed_mentions must be an object"]
    parse = allowed.get("parse") or []
    problems = [
        f"allowed_mentions.parse has unknown value {p!r}"
        for p in parse
        if p not in ("users", "roles", "everyone")
    ]
    for key in ("users", "roles"):
        if key in parse and allowed.get(key):
            problems.append(f"allowed_mentions cannot list {key} and parse {key} at once")
        if len(allowed.get(key) or []) > 100:
            problems.append(f"allowed_mentions.{key} lists more than 100 ids")
    return problems


def modal_problems(data: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    title = data.get("title") or ""
    if not 1 <= len(title) <= 45:
        problems.append(f"modal title is {len(title)} characters (1 to 45)")
    custom_id = data.get("custom_id") or ""
    if not 1 <= len(custom_id) <= 100:
        problems.append(f"modal custom_id is {len(custom_id)} characters (1 to 100)")
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        problems.append(f"modal has {len(components)} top-level components (1 to 5)")
    for component in _walk_components(components):
        cid = component.get("custom_id")
        if cid is not None and not 1 <= len(cid) <= 100:
            problems.append(f"modal component custom_id is {len(cid)} characters (1 to 100)")
        if component.get("type") == 4 and len(component.get("label") or "") > 45:
            problems.append("text input label is longer than 45 characters")
    return problems


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$", re.UNICODE)


def command_problems(commands: list[Mapping[str, Any]]) -> list[str]:
    """What Discord would refuse in a bulk overwrite of application commands."""
    problems: list[str] = []
    seen: set[tuple[int, str]] = set()
    counts = {1: 0, 2: 0, 3: 0}
    for cmd in commands:
        ctype = int(cmd.get("type", 1))
        name = cmd.get("name") or ""
        counts[ctype] = counts.get(ctype, 0) + 1
        if (ctype, name) in seen:
            problems.append(f"duplicate command name {name!r}")
        seen.add((ctype, name))
        if ctype == 1:
            problems += _named_problems(cmd, f"command {name!r}")
            problems += _options_problems(cmd.get("options") or [], f"/{name}", depth=0)
            if _command_chars(cmd) > 4000:
                problems.append(f"/{name} has more than 4000 characters of names, descriptions and choices")
        else:
            if not 1 <= len(name) <= 32:
                problems.append(f"context menu name {name!r} must be 1 to 32 characters")
            if cmd.get("description"):
                problems.append(f"context menu {name!r} must have an empty description")
    if counts.get(1, 0) > 100:
        problems.append("more than 100 slash commands")
    if counts.get(2, 0) > 5 or counts.get(3, 0) > 5:
        problems.append("more than 5 user or message context menus")
    return problems


def _named_problems(item: Mapping[str, Any], what: str) -> list[str]:
    problems = _localization_problems(item, what)
    name = item.get("name") or ""
    if not _COMMAND_NAME.match(name) or name != name.lower():
        problems.append(f"{what}: name must be 1 to 32 lower-case letters, digits, - or _")
    description = item.get("description") or ""
    if not 1 <= len(description) <= 100:
        problems.append(f"{what}: description is {len(description)} characters (1 to 100)")
    return problems


def _options_problems(options: list[Mapping[str, Any]], where: str, depth: int) -> list[str]:
    problems: list[str] = []
    if len(options) > 25:
        problems.append(f"{where}: {len(options)} options (limit 25)")
    kinds = {int(o.get("type", 3)) for o in options}
    if kinds & {1, 2} and kinds - {1, 2}:
        problems.append(f"{where}: subcommands mixed with plain options")
    optional_seen = False
    names: set[str] = set()
    for option in options:
        otype = int(option.get("type", 3))
        oname = option.get("name") or ""
        path = f"{where} {oname}"
        problems += _named_problems(option, path)
        if oname in names:
            problems.append(f"{path}: duplicate option name")
        names.add(oname)
        if otype == 2:
            if depth > 0:
                problems.append(f"{path}: a subcommand group can only sit at the top level")
            children = option.get("options") or []
            if any(int(c.get("type", 3)) != 1 for c in children):
                problems.append(f"{path}: a subcommand group may hold only subcommands")
            problems += _options_problems(children, path, depth + 1)
        elif otype == 1:
            children = option.get("options") or []
            if any(int(c.get("type", 3)) in (1, 2) for c in children):
                problems.append(f"{path}: a subcommand cannot hold subcommands")
            problems += _options_problems(children, path, depth + 1)
        else:
            if option.get("required"):
                if optional_seen:
                    problems.append(f"{path}: a required option comes after an optional one")
            else:
                optional_seen = True
            choices = option.get("choices") or []
            if len(choices) > 25:
                problems.append(f"{path}: {len(choices)} choices (limit 25)")
            for choice in choices:
                problems += _localization_problems(choice, f"{path} choice {choice.get('value')!r}")
                if not 1 <= len(choice.get("name") or "") <= 100:
                    problems.append(f"{path}: a choice name must be 1 to 100 characters")
                if isinstance(choice.get("value"), str) and len(choice["value"]) > 100:
                    problems.append(f"{path}: a string choice value is longer than 100 characters")
            if choices and option.get("autocomplete"):
                problems.append(f"{path}: choices and autocomplete cannot be combined")
    return problems


def _longest(item: Mapping[str, Any], field: str) -> int:
    """A field's size as Discord counts it: its longest localization, the default included."""
    localized = (item.get(f"{field}_localizations") or {}).values()
    return max([len(str(item.get(field) or "")), *(len(str(text)) for text in localized)])


def _command_chars(item: Mapping[str, Any]) -> int:
    total = _longest(item, "name") + _longest(item, "description")
    for choice in item.get("choices") or []:
        total += _longest(choice, "name") + len(str(choice.get("value") or ""))
    return total + sum(_command_chars(o) for o in item.get("options") or [])


def _localization_problems(item: Mapping[str, Any], what: str) -> list[str]:
    """A localized name or description obeys the limits of the default one."""
    problems: list[str] = []
    for locale, text in (item.get("description_localizations") or {}).items():
        if not 1 <= len(str(text)) <= 100:
            problems.append(f"{what}: the {locale} description is {len(str(text))} characters (1 to 100)")
    for locale, text in (item.get("name_localizations") or {}).items():
        if not 1 <= len(str(text)) <= (100 if "value" in item else 32):
            problems.append(f"{what}: the {locale} name is {len(str(text))} characters")
    return problems


# --------------------------------------------------------------------------------------------------
# Gateway sessions and connections.
# --------------------------------------------------------------------------------------------------


class DiscordRuleViolation(AssertionError):
    pass


# --------------------------------------------------------------------------------------------------
# The fake itself.
# --------------------------------------------------------------------------------------------------
