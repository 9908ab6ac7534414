"""The storage mapper between a :class:`~bot.spec.VideoSpec` and the ``tasks`` table's columns.

Written once over the spec's fields, so an option added to the spec is stored by adding its column (a
migration) and nothing here: a plain field lands in the column of its name (booleans as 0/1). Media
come in two shapes: a role that a request has at most once (a keyframe, a subject) has its own
``<role>_url`` column; every other role (the references, several per request) is one entry of the
``reference_media`` JSON list, ``[{"role", "kind", "url"}]``. Only the media URLs (and kinds) are
kept: the attachment metadata served validation and is not needed again. The ``mode`` column is
written for statistics and never read back (the media decide it).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from bot.spec import MediaKind, MediaRef, MediaRole, VideoSpec, media_from_urls
from storage.backend import Row

log = logging.getLogger(__name__)

# Columns named before the spec existed, kept so old databases need no rebuild.
_COLUMN_OF_FIELD: Mapping[str, str] = {"fast": "fast_pretreatment"}

_SCALAR_FIELDS: tuple[dataclasses.Field[Any], ...] = tuple(
    f for f in dataclasses.fields(VideoSpec) if f.name != "media"
)
_BOOL_FIELDS = frozenset(f.name for f in _SCALAR_FIELDS if str(f.type).startswith("bool"))
# The roles a request has at most once, each in a column of its own.
_COLUMN_ROLES = (MediaRole.FIRST_FRAME, MediaRole.LAST_FRAME, MediaRole.SUBJECT)
_MEDIA_COLUMNS: Mapping[MediaRole, str] = {role: f"{role.value}_url" for role in _COLUMN_ROLES}
LISTED_MEDIA_COLUMN = "reference_media"

SPEC_COLUMNS: tuple[str, ...] = (
    *(_COLUMN_OF_FIELD.get(f.name, f.name) for f in _SCALAR_FIELDS),
    *_MEDIA_COLUMNS.values(),
    LISTED_MEDIA_COLUMN,
)
# Read with a task; ``mode`` is derived, so it is written but not part of the spec's columns.
WRITTEN_COLUMNS: tuple[str, ...] = (*SPEC_COLUMNS, "mode")


def to_column(field: str, value: object) -> object:
    """One option's value as its column holds it (booleans as 0/1)."""
    return int(value) if field in _BOOL_FIELDS and isinstance(value, bool) else value


def from_column(field: str, value: object) -> object:
    return bool(value) if field in _BOOL_FIELDS and value is not None else value


def kind_of(field: str) -> str:
    """``"bool"``, ``"int"`` or ``"str"``: how a column of this option is checked."""
    declared = str(next(f.type for f in _SCALAR_FIELDS if f.name == field))
    return next(kind for kind in ("bool", "int", "str") if declared.startswith(kind))


def spec_to_columns(spec: VideoSpec) -> dict[str, object]:
    """Column values for ``spec``, in :data:`WRITTEN_COLUMNS` order."""
    values: dict[str, object] = {}
    for f in _SCALAR_FIELDS:
        values[_COLUMN_OF_FIELD.get(f.name, f.name)] = to_column(f.name, getattr(spec, f.name))
    for role, column in _MEDIA_COLUMNS.items():
        medium = spec.medium(role)
        values[column] = medium.url if medium is not None else None
    listed = [
        {"role": m.role.value, "kind": m.kind.value, "url": m.url}
        for m in spec.media
        if m.role not in _MEDIA_COLUMNS
    ]
    values[LISTED_MEDIA_COLUMN] = json.dumps(listed, separators=(",", ":")) if listed else None
    values["mode"] = spec.mode.value
    return values


def spec_from_row(row: Row) -> VideoSpec:
    values: dict[str, Any] = {}
    for f in _SCALAR_FIELDS:
        values[f.name] = from_column(f.name, row[_COLUMN_OF_FIELD.get(f.name, f.name)])
    media = media_from_urls({role: row[column] for role, column in _MEDIA_COLUMNS.items()})
    return VideoSpec(**values, media=(*media, *_listed_media(row[LISTED_MEDIA_COLUMN])))


def _listed_media(raw: object) -> tuple[MediaRef, ...]:
    """The ``reference_media`` list back; an entry this version cannot read is logged and skipped."""
    if raw is None:
        return ()
    try:
        entries = json.loads(str(raw))
    except ValueError:
        log.error("Unreadable reference_media column: %.80r", raw)
        return ()
    found: list[MediaRef] = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            found.append(
                MediaRef(
                    url=str(entry["url"]),
                    role=MediaRole(entry["role"]),
                    kind=MediaKind(entry["kind"]),
                    checked=True,
                )
            )
        except (KeyError, TypeError, ValueError):
            log.error("Unreadable reference_media entry: %.80r", entry)
    return tuple(found)
