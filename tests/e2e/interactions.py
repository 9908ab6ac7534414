"""Interaction payloads built from what the bot really registered, the way Discord's client builds them.

Why: a test that hand-writes ``{"name": "video", "options": [...]}`` keeps passing after the bot
renames an option. Building the payload from the *registered* schema means a renamed command,
a missing option, a wrong type or a member without the command's default permissions fails the
test here, exactly where a real member would have been stopped by Discord's UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes.fake_discord import (
    FakeChannel,
    FakeDiscord,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    Perm,
    StoredAttachment,
    png_bytes,
)

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
SELECT_TYPES = (3, 5, 6, 7, 8)


class CommandNotAvailable(Exception):
    """What Discord's client would not let this member do (hidden command, disabled button, …)."""


@dataclass
class AttachmentSpec:
    """A file a member attaches; PNG bytes of ``width``×``height`` unless ``data`` is given.

    ``size`` overrides the size Discord reports (to claim a huge file without making one);
    ``noisy`` makes the PNG incompressible, so a big picture is also a big file.
    """

    filename: str = "image.png"
    width: int = 640
    height: int = 480
    data: bytes | None = None
    content_type: str | None = None
    size: int | None = None
    noisy: bool = False

    def store(self, fake: FakeDiscord, channel_id: int, *, ephemeral: bool) -> StoredAttachment:
        data = self.data if self.data is not None else png_bytes(self.width, self.height, noisy=self.noisy)
        return fake.add_attachment(
            channel_id,
            self.filename,
            data,
            content_type=self.content_type,
            size=self.size,
            ephemeral=ephemeral,
        )


def default_permissions_allow(command: Mapping[str, Any], permissions: int) -> bool:
    """Discord hides a command from members lacking ``default_member_permissions``."""
    required = command.get("default_member_permissions")
    if required is None or permissions & Perm.ADMINISTRATOR or permissions == Perm.ALL:
        return True
    needed = int(required)
    return needed != 0 and permissions & needed == needed


def _choices_values(option: Mapping[str, Any]) -> list[Any]:
    return [c["value"] for c in option.get("choices") or []]


class _Resolver:
    """Collects the ``resolved`` block while options are converted."""

    def __init__(self, fake: FakeDiscord, channel: FakeChannel) -> None:
        self.fake = fake
        self.channel = channel
        self.data: dict[str, dict[str, Any]] = {}

    def _put(self, kind: str, key: int, value: dict[str, Any]) -> None:
        self.data.setdefault(kind, {})[str(key)] = value

    def user(self, who: FakeMember | FakeUser) -> int:
        user = who.user if isinstance(who, FakeMember) else who
        self._put("users", user.id, user.payload())
        guild = self.fake.guild_of(self.channel) or self.fake.guild
        member = who if isinstance(who, FakeMember) else guild.members.get(user.id)
        if member is not None and not self.channel.is_dm:
            payload = member.payload(guild.permissions_of(member))
            del payload["user"], payload["deaf"], payload["mute"]
            self._put("members", user.id, payload)
        return user.id

    def role(self, role: FakeRole) -> int:
        self._put("roles", role.id, role.payload())
        return role.id

    def channel_(self, channel: FakeChannel) -> int:
        data = {**channel.payload(), "permissions": str(Perm.ALL)}
        self._put("channels", channel.id, data)
        return channel.id

    def attachment(self, value: AttachmentSpec | StoredAttachment | bytes) -> int:
        if isinstance(value, bytes):
            value = AttachmentSpec(data=value)
        stored = (
            value
            if isinstance(value, StoredAttachment)
            else value.store(self.fake, self.channel.id, ephemeral=True)
        )
        self._put("attachments", stored.id, stored.payload(self.fake.base_url))
        return stored.id

    def message(self, message: FakeMessage) -> int:
        self._put("messages", message.id, self.fake.message_payload(message))
        return message.id


def _is_instance(value: object, types: tuple[type, ...]) -> bool:
    return isinstance(value, types)


def _check_value(path: str, option: Mapping[str, Any], value: Any) -> None:
    otype = option["type"]
    expected: dict[int, tuple[type, ...]] = {
        STRING: (str,),
        INTEGER: (int,),
        BOOLEAN: (bool,),
        NUMBER: (int, float),
        USER: (FakeMember, FakeUser),
        CHANNEL: (FakeChannel,),
        ROLE: (FakeRole,),
        MENTIONABLE: (FakeMember, FakeUser, FakeRole),
        ATTACHMENT: (AttachmentSpec, StoredAttachment, bytes),
    }
    types = expected.get(otype, (object,))
    if not _is_instance(value, types) or (otype in (INTEGER, NUMBER) and isinstance(value, bool)):
        raise TypeError(f"{path}: Discord only sends a {types[0].__name__} here, not {value!r}")
    choices = _choices_values(option)
    if choices and value not in choices:
        raise ValueError(f"{path}: {value!r} is not one of the offered choices {choices}")
    if otype == STRING and not option.get("min_length", 0) <= len(value) <= option.get("max_length", 6000):
        raise ValueError(f"{path}: length {len(value)} is outside the option's min/max length")
    if otype in (INTEGER, NUMBER):
        low, high = option.get("min_value"), option.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{path}: {value} is outside [{low}, {high}]")
    if otype == CHANNEL and option.get("channel_types") and value.type not in option["channel_types"]:
        raise ValueError(f"{path}: channel type {value.type} is not offered")


def _option_value(resolver: _Resolver, otype: int, value: Any) -> Any:
    """The wire value for one option; objects become ids plus an entry in ``resolved``."""
    if isinstance(value, FakeMember | FakeUser):
        return str(resolver.user(value))
    if isinstance(value, FakeRole):
        return str(resolver.role(value))
    if isinstance(value, FakeChannel):
        return str(resolver.channel_(value))
    if isinstance(value, AttachmentSpec | StoredAttachment) or (
        otype == ATTACHMENT and isinstance(value, bytes)
    ):
        return str(resolver.attachment(value))
    return value


def _guess_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, FakeMember | FakeUser):
        return USER
    if isinstance(value, FakeRole):
        return ROLE
    if isinstance(value, FakeChannel):
        return CHANNEL
    if isinstance(value, AttachmentSpec | StoredAttachment | bytes):
        return ATTACHMENT
    return STRING


def build_slash_data(
    fake: FakeDiscord,
    command: Mapping[str, Any],
    path: Sequence[str],
    options: Mapping[str, Any],
    attachments: Sequence[AttachmentSpec | StoredAttachment | bytes] | Mapping[str, Any] | None,
    *,
    channel: FakeChannel,
    validate: bool = True,
) -> dict[str, Any]:
    """``data`` of an APPLICATION_COMMAND for ``/path…`` with ``options`` (and attachments in order)."""
    shown = "/" + " ".join(path)
    top: list[dict[str, Any]] = []
    container = top
    node: Mapping[str, Any] = command
    for part in path[1:]:
        sub = next(
            (o for o in node.get("options") or [] if o["name"] == part and o["type"] in (1, 2)),
            None,
        )
        if sub is None:
            offered = [o["name"] for o in node.get("options") or [] if o["type"] in (1, 2)]
            raise LookupError(f"{shown}: no subcommand {part!r} registered (offered: {offered})")
        entry: dict[str, Any] = {"type": sub["type"], "name": part, "options": []}
        container.append(entry)
        container = entry["options"]
        node = sub
    schema = {o["name"]: o for o in node.get("options") or []}
    if any(o["type"] in (1, 2) for o in schema.values()):
        raise LookupError(f"{shown} is a group; pick one of {sorted(schema)}")

    values = dict(options)
    if isinstance(attachments, Mapping):
        values.update(attachments)
    elif attachments:
        slots = [name for name, o in schema.items() if o["type"] == ATTACHMENT and name not in values]
        if validate and len(attachments) > len(slots):
            raise LookupError(f"{shown}: {len(attachments)} attachments but only attachment options {slots}")
        values.update(zip(slots, attachments, strict=False))

    if validate:
        unknown = sorted(set(values) - set(schema))
        if unknown:
            raise LookupError(f"{shown}: no option(s) {unknown}; registered: {sorted(schema)}")
        missing = [n for n, o in schema.items() if o.get("required") and n not in values]
        if missing:
            raise LookupError(f"{shown}: required option(s) {missing} missing")
        for name, value in values.items():
            _check_value(f"{shown} {name}", schema[name], value)

    resolver = _Resolver(fake, channel)
    for name, value in values.items():
        otype = schema[name]["type"] if name in schema else _guess_type(value)
        container.append({"name": name, "type": otype, "value": _option_value(resolver, otype, value)})

    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1}
    if top:
        data["options"] = top
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolver.data:
        data["resolved"] = resolver.data
    return data


def build_context_menu_data(
    fake: FakeDiscord,
    command: Mapping[str, Any],
    target: FakeMessage | FakeMember | FakeUser,
    channel: FakeChannel,
) -> dict[str, Any]:
    resolver = _Resolver(fake, channel)
    ctype = int(command.get("type", 1))
    if ctype == 3:
        if not isinstance(target, FakeMessage):
            raise TypeError(f"{command['name']!r} is a message command; give it a message")
        target_id = resolver.message(target)
    else:
        if not isinstance(target, FakeMember | FakeUser):
            raise TypeError(f"{command['name']!r} is a user command; give it a member or user")
        target_id = resolver.user(target)
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": ctype,
        "target_id": str(target_id),
        "resolved": resolver.data,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data


def build_component_data(
    message: FakeMessage, custom_id: str, values: Iterable[str] | None, *, validate: bool = True
) -> dict[str, Any]:
    component = message.find_component(custom_id)
    if component is None:
        if validate:
            raise LookupError(
                f"message {message.id} has no component {custom_id!r} (it has {message.custom_ids})"
            )
        component = {"type": 2}
    if validate and component.get("disabled"):
        raise CommandNotAvailable(f"component {custom_id!r} is disabled")
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
    if component["type"] in SELECT_TYPES:
        chosen = list(values or [])
        offered = [o.get("value") for o in component.get("options") or []]
        if validate and component["type"] == 3 and any(v not in offered for v in chosen):
            raise ValueError(f"select {custom_id!r} offers {offered}, not {chosen}")
        data["values"] = chosen
    return data


def build_modal_submit_data(
    modal: Mapping[str, Any], values: Mapping[str, str | Sequence[str]], *, validate: bool = True
) -> dict[str, Any]:
    known: set[str] = set()

    def convert(component: Mapping[str, Any]) -> dict[str, Any]:
        ctype = component["type"]
        if ctype == 1:
            return {"type": 1, "components": [convert(c) for c in component.get("components") or []]}
        if ctype == 18:  # label wrapping one input
            return {"type": 18, "component": convert(component["component"])}
        custom_id = component.get("custom_id")
        if custom_id is None:
            return {"type": ctype}
        known.add(custom_id)
        if ctype == 4:
            value = values.get(custom_id, component.get("value") or "")
            if validate:
                if not isinstance(value, str):
                    raise TypeError(f"text input {custom_id!r} takes a string")
                if component.get("required", True) and not value:
                    raise ValueError(f"text input {custom_id!r} is required")
                low, high = component.get("min_length", 0), component.get("max_length", 4000)
                if value and not low <= len(value) <= high:
                    raise ValueError(f"text input {custom_id!r} takes {low} to {high} characters")
            return {"type": 4, "custom_id": custom_id, "value": value}
        chosen = values.get(custom_id, [])
        return {
            "type": ctype,
            "custom_id": custom_id,
            "values": [chosen] if isinstance(chosen, str) else list(chosen),
        }

    components = [convert(c) for c in modal.get("components") or []]
    if validate:
        unknown = sorted(set(values) - known)
        if unknown:
            raise LookupError(
                f"modal {modal.get('custom_id')!r} has no input(s) {unknown} (it has {sorted(known)})"
            )
    return {"custom_id": modal["custom_id"], "components": components}
