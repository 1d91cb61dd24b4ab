"""The pages' edit forms: their fields (``api/forms.json``, data), reading a posted form into a
document, and the French message of each refused field, shown next to it.

An offering's ``examples`` (typical requests, 3 to 10) are a ``lines`` field: one request per line.

A form never writes by itself: ``api/web_edit.py`` validates the whole entity with the domain
model (the same rules as the API and the ingest), and only then writes it through the facade.

Example:
    >>> fields = form_fields("need", new=True, staff=True)
    >>> [f.name for f in fields][:2]
    ['title', 'text']
    >>> read(fields, {"title": ["Trésorerie"], "hours_per_week": ["2,5"], "remote": ["on"]})
    ({'title': 'Trésorerie', 'text': '', 'hours_per_week': 2.5, 'remote': True, 'deadline': None}, {})
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matching.domain import ID_PATTERN, OFFERING_KIND_LABELS, STAGE_LABELS
from matching.messages import message
from matching.settings import package_json

FORMS_FILE = Path(__file__).parent / "forms.json"
MAX_LIST = 50


@dataclass(frozen=True)
class Field:
    name: str  # "preferences.digest": a field of a nested document
    label: str
    kind: str
    options: tuple[tuple[str, str], ...] = ()
    required: bool = False
    optional: bool = False  # empty is None (no value), not an empty text


@cache
def task_kinds() -> tuple[tuple[str, str], ...]:
    """``(id, label)`` of the kinds of task a member may prefer (``data/task_kinds.json``)."""
    return tuple((k["id"], k["label"]) for k in package_json("task_kinds.json")["kinds"])


def _options(source: str | None) -> tuple[tuple[str, str], ...]:
    if source == "stages":
        return tuple((s.value, label) for s, label in STAGE_LABELS.items())
    if source == "offering_kinds":
        return tuple((k.value, label) for k, label in OFFERING_KIND_LABELS.items())
    if source == "task_kinds":
        return task_kinds()
    return ()


@cache
def _specs() -> dict[str, list[dict[str, Any]]]:
    return {k: v for k, v in json.loads(FORMS_FILE.read_text(encoding="utf-8")).items() if not k.startswith("_")}


def form_fields(form: str, *, new: bool, staff: bool) -> list[Field]:
    """The fields of a form, for a creation (``new``) or an edit, for staff or not."""
    return [
        Field(s["name"], s["label"], s["kind"], _options(s.get("options")), bool(s.get("required")), bool(s.get("optional")))
        for s in _specs()[form]
        if (new or not s.get("new_only")) and (staff or not s.get("staff_only"))
    ]


def _split(text: str, lines: bool) -> list[str]:
    parts = text.splitlines() if lines else re.split(r"[,\n;]", text)
    return [p.strip() for p in parts if p.strip()]


def _number(text: str, integer: bool) -> float | int:
    value = float(text.replace(",", ".").replace("\u202f", "").replace(" ", ""))
    if integer:
        if not value.is_integer():
            raise ValueError
        return int(value)
    return value


def read(fields: list[Field], form: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted values as a document (nested for ``a.b`` names; empty numbers and dates left
    out so the model's default holds), and the fields that could not even be read (a number that is
    not one), with their French message."""
    doc: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        values = form.get(f.name, [])
        text = values[0].strip() if values else ""
        value: Any
        if f.kind == "checkbox":
            value = bool(values)
        elif f.kind == "checkboxes":
            value = values[:MAX_LIST]
        elif f.kind in ("list", "lines"):
            value = _split(text, f.kind == "lines")[:MAX_LIST]
        elif f.kind in ("number", "integer"):
            if not text:
                continue
            try:
                value = _number(text, f.kind == "integer")
            except ValueError:
                errors[f.name] = "un nombre entier est attendu" if f.kind == "integer" else "un nombre est attendu"
                continue
        elif f.kind == "date":
            value = text or None
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    errors[f.name] = "une date est attendue (AAAA-MM-JJ)"
                    continue
        else:
            value = text or (None if f.optional else "")
        head, _, tail = f.name.partition(".")
        if tail:
            doc.setdefault(head, {})[tail] = value
        else:
            doc[head] = value
    return doc, errors


def field_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """The French message of each refused field (``a.b`` for nested ones; ``formulaire`` for a
    rule on the whole entity)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
        name = prefix + ".".join(loc) if loc else "formulaire"
        out.setdefault(name, message(error))
    return out


def merge(base: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the form's values over it (nested documents merged one level down)."""
    out = dict(base)
    for k, v in doc.items():
        out[k] = {**out.get(k, {}), **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def values_of(fields: list[Field], doc: dict[str, Any]) -> dict[str, Any]:
    """What each field shows: from a stored document (or what was posted)."""
    out: dict[str, Any] = {}
    for f in fields:
        head, _, tail = f.name.partition(".")
        value = doc.get(head)
        if tail:
            value = value.get(tail) if isinstance(value, dict) else None
        if f.kind in ("list", "lines") and isinstance(value, list):
            value = ("\n" if f.kind == "lines" else ", ").join(value)
        out[f.name] = value
    return out


def new_id(text: str, taken: set[str], prefix: str = "") -> str:
    """An identifier made from a title or a name (``epicerie-solidaire``), unique among ``taken``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:40].strip("-") or secrets.token_hex(3)
    ident = prefix + slug
    while ident in taken or not re.match(ID_PATTERN, ident):
        ident = f"{prefix}{slug}-{secrets.token_hex(2)}"
    return ident


def next_child_id(parent: str, taken: set[str], letter: str) -> str:
    """``p1-n3``: the first free number after the parent's id."""
    n = 1
    while f"{parent}-{letter}{n}" in taken:
        n += 1
    return f"{parent}-{letter}{n}"


class FieldRefused(ValueError):
    """A field refused by a rule outside the model (an identifier already taken)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def posted_values(fields: list[Field], form: dict[str, list[str]]) -> dict[str, Any]:
    """What was posted, shown again as it was typed (a refused form keeps the person's input)."""
    out: dict[str, Any] = {}
    for f in fields:
        values = form.get(f.name, [])
        if f.kind == "checkbox":
            out[f.name] = bool(values)
        elif f.kind == "checkboxes":
            out[f.name] = values
        else:
            out[f.name] = values[0] if values else ""
    return out
