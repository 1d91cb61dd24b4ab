"""Files -> validated domain objects -> one store transaction.

Accepted inputs:

- **JSON territory document** (what ``data/demo/sceaux-valley.json`` is)::

      {"territory": {"id": ..., "name": ...}, "members": [...], "projects": [...], "partners": [...]}

- **JSON list** or **JSON Lines** of one entity kind (``--kind`` and ``--territory``);
- **CSV** of one entity kind (``--kind`` and ``--territory``): list fields are separated
  by ``|`` (``causes``, ``skill_tags``, ``days``, ``stages``, ``communes``); nested fields
  (``needs`` of a project, ``offerings`` of a partner, ``eligibility``) hold JSON; an
  empty cell means "use the default".

Every row is validated before anything is written. The first invalid row stops the
ingest with its line and field (``IngestError``) and nothing of the batch is written.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from matching.domain import Member, Partner, Project, Territory
from matching.errors import IngestError
from matching.messages import message, where

EntityKind = Literal["member", "project", "partner", "territory"]
MODELS: dict[str, type[BaseModel]] = {"member": Member, "project": Project, "partner": Partner, "territory": Territory}
LIST_FIELDS = {"causes", "skill_tags", "days", "stages", "communes", "rome_skills"}
JSON_FIELDS = {"needs", "offerings", "eligibility", "breakdown"}  # breakdown: of an event
BOOL_FIELDS = {"consent", "remote_ok", "remote", "legal_structure", "open_to_minors", "reduced_mobility_accessible"}
TRUE_WORDS = {"true", "oui", "vrai", "1", "yes"}
FALSE_WORDS = {"false", "non", "faux", "0", "no"}
INT_FIELDS = {"max_engagements", "active_engagements", "headcount", "capacity"}
NUMBER_FIELDS = INT_FIELDS | {"hours_per_week", "score"}  # score: of an event
PLURAL = {"members": "member", "projects": "project", "partners": "partner", "territories": "territory"}


@dataclass
class Batch:
    """Validated objects, each with the territory it belongs to."""

    territories: list[Territory] = field(default_factory=list)
    members: list[tuple[str, Member]] = field(default_factory=list)
    projects: list[tuple[str, Project]] = field(default_factory=list)
    partners: list[tuple[str, Partner]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "territories": len(self.territories),
            "members": len(self.members),
            "projects": len(self.projects),
            "needs": sum(len(p.needs) for _, p in self.projects),
            "partners": len(self.partners),
            "offerings": sum(len(p.offerings) for _, p in self.partners),
        }

    def add(self, kind: str, territory_id: str | None, obj: BaseModel) -> None:
        if kind == "territory":
            self.territories.append(obj)  # type: ignore[arg-type]
        else:
            getattr(self, kind + "s").append((territory_id, obj))


def _validate(kind: str, data: Any, source: str, line: int) -> BaseModel:
    if not isinstance(data, dict):
        raise IngestError(source, line, "-", f"un objet JSON est attendu, pas {type(data).__name__}")
    try:
        return MODELS[kind].model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise IngestError(source, line, where(err["loc"]) or "-", message(err)) from None


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _decode_array(text: str, pos: int, decoder: json.JSONDecoder) -> tuple[list[tuple[int, Any]], int]:
    """Decode the JSON array starting at ``text[pos] == '['``, keeping each item's line."""
    items: list[tuple[int, Any]] = []
    line, counted = _line_of(text, pos), pos  # lines counted incrementally: linear in the file size
    pos += 1
    while True:
        while text[pos].isspace() or text[pos] == ",":
            pos += 1
        if text[pos] == "]":
            return items, pos + 1
        value, end = decoder.raw_decode(text, pos)
        line += text.count("\n", counted, pos)
        counted = pos
        items.append((line, value))
        pos = end


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def parse_json(text: str, source: str, *, kind: str | None, territory: str | None) -> Batch:
    decoder = json.JSONDecoder()
    try:
        pos = _skip_ws(text, 0)
        if pos >= len(text):
            raise IngestError(source, 1, "-", "fichier vide")
        if text[pos] == "[":
            if kind is None:
                raise IngestError(source, 1, "-", "une liste JSON demande --kind (member, project, partner)")
            items, _ = _decode_array(text, pos, decoder)
            return _batch_from_items(items, kind, territory, source)
        if text[pos] != "{":
            raise IngestError(source, _line_of(text, pos), "-", "un objet ou une liste JSON est attendu")
        # a territory document: walk its top-level keys to keep line numbers of array items
        batch = Batch()
        sections: dict[str, list[tuple[int, Any]]] = {}
        territory_doc: tuple[int, Any] | None = None
        pos += 1
        while True:
            pos = _skip_ws(text, pos)
            if text[pos] == ",":
                pos += 1
                continue
            if text[pos] == "}":
                break
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip_ws(text, pos)
            if text[pos] != ":":
                raise json.JSONDecodeError("':' attendu", text, pos)
            pos = _skip_ws(text, pos + 1)
            if key in PLURAL and key != "territories" and text[pos] == "[":
                sections[key], pos = _decode_array(text, pos, decoder)
            elif key == "territory":
                line = _line_of(text, pos)
                value, pos = decoder.raw_decode(text, pos)
                territory_doc = (line, value)
            else:
                raise IngestError(source, _line_of(text, pos), key, "clé inconnue (territory, members, projects, partners)")
    except json.JSONDecodeError as exc:
        raise IngestError(source, exc.lineno, "-", f"JSON invalide : {exc.msg}") from None
    except IndexError:
        raise IngestError(source, _line_of(text, len(text)), "-", "JSON incomplet") from None
    tid = territory
    if territory_doc is not None:
        t = _validate("territory", territory_doc[1], source, territory_doc[0])
        batch.territories.append(t)  # type: ignore[arg-type]
        tid = t.id  # type: ignore[attr-defined]
    if tid is None:
        raise IngestError(source, 1, "territory", "territoire manquant (clé territory ou --territory)")
    for key in ("members", "partners", "projects"):
        for line, item in sections.get(key, []):
            batch.add(PLURAL[key], tid, _validate(PLURAL[key], item, source, line))
    return batch


def _batch_from_items(items: list[tuple[int, Any]], kind: str, territory: str | None, source: str) -> Batch:
    if kind != "territory" and territory is None:
        raise IngestError(source, 1, "territory", "--territory est obligatoire pour ce format")
    batch = Batch()
    for line, item in items:
        batch.add(kind, territory, _validate(kind, item, source, line))
    return batch


def parse_jsonl(text: str, source: str, *, kind: str | None, territory: str | None) -> Batch:
    if kind is None:
        raise IngestError(source, 1, "-", "JSON Lines demande --kind (member, project, partner)")
    items = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((line_no, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise IngestError(source, line_no, "-", f"JSON invalide : {exc.msg}") from None
    return _batch_from_items(items, kind, territory, source)


def _csv_value(name: str, value: str, source: str, line: int) -> Any:
    if name in LIST_FIELDS:
        return [v.strip() for v in value.split("|") if v.strip()]
    if name in BOOL_FIELDS:
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise IngestError(source, line, name, f"oui/non (ou true/false) attendu, pas {value!r}")
    if name in NUMBER_FIELDS:
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            raise IngestError(source, line, name, f"un nombre est attendu, pas {value!r}") from None
        return int(number) if number.is_integer() and name in INT_FIELDS else number
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise IngestError(source, line, name, f"JSON invalide dans la cellule : {exc.msg}") from None
    return value


def parse_csv(text: str, source: str, *, kind: str | None, territory: str | None) -> Batch:
    if kind is None:
        raise IngestError(source, 1, "-", "un CSV demande --kind (member, project, partner)")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise IngestError(source, 1, "-", "en-tête CSV manquant")
    items = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise IngestError(source, line, "-", "plus de cellules que de colonnes")
        data = {k: _csv_value(k, v, source, line) for k, v in row.items() if k and v is not None and v.strip() != ""}
        items.append((line, data))
    return _batch_from_items(items, kind, territory, source)


def _guess_kind(path: Path) -> str | None:
    stem = path.stem.lower()
    for plural, kind in PLURAL.items():
        if plural in stem or stem == kind:
            return kind
    return None


def read_file(path: str | Path, *, kind: str | None = None, territory: str | None = None) -> Batch:
    """Parse and validate a JSON, JSON Lines or CSV file (nothing is written)."""
    path = Path(path)
    source = path.name
    if kind is not None and kind not in MODELS:
        raise IngestError(source, 1, "--kind", f"type inconnu {kind!r} (member, project, partner, territory)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise IngestError(source, 0, "-", "fichier introuvable") from None
    except UnicodeDecodeError as exc:
        raise IngestError(source, 0, "-", f"le fichier n'est pas en UTF-8 ({exc.reason})") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_csv(text, source, kind=kind or _guess_kind(path), territory=territory)
    if suffix in (".jsonl", ".ndjson"):
        return parse_jsonl(text, source, kind=kind or _guess_kind(path), territory=territory)
    if suffix == ".json":
        return parse_json(text, source, kind=kind or _guess_kind(path), territory=territory)
    raise IngestError(source, 0, "-", f"format non reconnu {suffix!r} (.json, .jsonl, .csv)")


def read_rows(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, object) pairs of a JSON (a list, or ``{"events": [...]}``), JSON Lines or CSV file of
    events, not validated yet; CSV cells are converted as for entities (``score`` a number,
    ``breakdown`` JSON), with the line and field on error."""
    path = Path(path)
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        raise IngestError(source, 0, "-", f"lecture impossible ({exc})") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        rows = []
        for row in reader:
            line = reader.line_num
            if None in row:
                raise IngestError(source, line, "-", "plus de cellules que de colonnes")
            rows.append((line, {k: _csv_value(k, v, source, line) for k, v in row.items() if k and v not in (None, "")}))
        return rows
    if suffix in (".jsonl", ".ndjson"):
        rows = []
        for no, line_text in enumerate(text.splitlines(), 1):
            if line_text.strip():
                try:
                    rows.append((no, json.loads(line_text)))
                except json.JSONDecodeError as exc:
                    raise IngestError(source, no, "-", f"JSON invalide : {exc.msg}") from None
        return rows
    try:
        start = text.index("[")
        items, _ = _decode_array(text, start, json.JSONDecoder())
    except (ValueError, json.JSONDecodeError) as exc:
        raise IngestError(source, 1, "-", f"liste JSON d'événements attendue ({exc})") from None
    return items
