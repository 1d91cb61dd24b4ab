"""The read model: what the candidates' side of the questions keeps in memory, per territory.

A question reads its **subject** fresh from the store (one query); its **candidates** come from
here, instead of being read and validated on every request: the masks of who may be suggested
(available members, open calls for skills of the day), the column arrays the structured
components and the eligibility rules read (``matching.columns``, built from the few fields they
need, selected in SQL: no object per candidate is kept, so a million members fit), the
offerings catalogue, the eligible projects of each offering, the contact counts of the
exposure policy, and the validated members, needs and projects a question returned (for their
labels and reasons; bounded).

There is **one way in**: ``apply(changes)`` with the ``store.Changes`` of a committed unit of
work (this process's writes, and another process's through the change log: ``matching.follower``).
It drops or marks what the change touched; the next read rebuilds it from the store.

Eviction policy (the one rule for every piece):

| piece | kept until | bound |
|---|---|---|
| validated members, needs, projects (those returned) | a write of that entity (``apply``) | ``MAX_VALIDATED`` per kind and territory: past it the kind starts afresh |
| available-members mask, member columns | never dropped: written members are brought up to date by the next read (their rows only) | member columns are rebuilt when replaced rows outnumber live ones |
| open-needs mask, need columns | a project write, or the end of the clock's day | one day |
| projects' columns, eligible projects per offering | a project write (eligibility is keyed by what it depends on: the offering's stages, rules and capacity) | — |
| offerings catalogue (with the examples each offering answers and their vectors) | a partner write or an event; once it holds learned examples (projects an offering was accepted for), also a project or member write (a deleted project, a holder's withdrawn consent) | ``LEARNED_EXAMPLES_PER_OFFERING`` learned examples per offering |
| contact counts | an event recorded (here, or by another process: through the change log) | ``CONTACTS_MAX_AGE`` seconds |

Across processes: another process's contact reaches the counts here once the follower has
applied its entry (``/health`` ``feed.lag_seconds``: milliseconds with PostgreSQL's ``NOTIFY``,
up to ``feed_poll_seconds`` otherwise); a process that does not follow the log (a one-shot
command) reads them again after ``CONTACTS_MAX_AGE`` seconds at most, which also bounds how long
a contact that left the rolling window still counts (the cap errs on the side of caution).
Partner capacities are not kept: each question reads the pending suggestions from the store.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np

from matching import filters
from matching.clock import Clock
from matching.columns import Catalogue, MemberColumns, MemberFields, NeedColumns, ProjectColumns
from matching.domain import LEARNED_EXAMPLES_PER_OFFERING, Member, Need, Offering, Project, Stage
from matching.store import Changes, Tx, events, queries

MAX_VALIDATED = 200_000  # validated entities kept per kind and territory
CONTACTS_MAX_AGE = 60.0  # seconds contact counts are reused at most (events come through apply)
V = TypeVar("V")


class Validated(Generic[V]):
    """Validated entities by pk, read from the store on a miss; past ``MAX_VALIDATED`` it starts afresh."""

    def __init__(self, load: Any) -> None:
        self._load = load  # (tx, pks) -> {pk: value}
        self._items: dict[int, V] = {}

    def get(self, tx: Tx, pks: list[int]) -> dict[int, V]:
        items = self._items
        missing = [pk for pk in pks if pk not in items]
        if missing:
            if len(items) + len(missing) > MAX_VALIDATED:
                items = self._items = {}
            items.update(self._load(tx, missing))
        return {pk: items[pk] for pk in pks if pk in items}

    def drop(self, pks: set[int] | None = None) -> None:
        if pks is None:
            self._items = {}
        for pk in pks or ():
            self._items.pop(pk, None)


def _mask(pks: list[int]) -> np.ndarray:
    """A read-only boolean array by pk (shared between requests: callers copy before changing it)."""
    arr = np.fromiter(pks, dtype=np.int64, count=len(pks))
    mask = np.zeros(int(arr.max()) + 1 if len(arr) else 0, dtype=bool)
    mask[arr] = True
    mask.flags.writeable = False
    return mask


def _members(tx: Tx, pks: list[int]) -> dict[int, Member]:
    return {pk: Member.model_validate(data) for pk, data in queries.documents(tx, kind="member", pks=pks).items()}


def _needs(tx: Tx, pks: list[int]) -> dict[int, tuple[Need, str, dict[str, Any]]]:
    rows = queries.needs_with_projects(tx, pks=pks)
    return {pk: (Need.model_validate(data), project_id, pdata) for pk, (data, project_id, pdata) in rows.items()}


def _projects(tx: Tx, pks: list[int]) -> dict[int, Project]:
    return {
        pk: Project.model_validate(data | {"needs": []}) for pk, data in queries.documents(tx, kind="project", pks=pks).items()
    }


# The columns are built from the few fields they read (``queries.member_fields`` ...), not from
# validated documents: at a million members, validating every one took minutes and kept a
# gigabyte of objects. A record lives while its chunk is read; a field a stored document lacks
# (written by an older version) takes the model's default.


class NeedRecord(NamedTuple):
    id: str
    hours_per_week: float
    remote: bool


class ProjectRecord(NamedTuple):
    id: str
    stage: Stage
    legal_structure: bool
    commune: str | None
    causes: list[str]


def _default(model: Any, name: str) -> Any:
    return model.model_fields[name].get_default(call_default_factory=True)


def _or(value: Any, model: Any, name: str) -> Any:
    return _default(model, name) if value is None else value


def _member_fields(chunks: Iterator[list[list[Any]]]) -> Iterator[MemberFields]:
    """The query's columns as ``MemberFields``, a stored document's missing field by its default."""
    names = ("hours_per_week", "remote_ok", "max_engagements", "active_engagements")
    defaults = [_default(Member, n) for n in names]
    for pks, ids, hours, remote, mx, active, communes, postcodes, causes in chunks:
        hours, remote, mx, active = (
            [d if v is None else v for v in column] for d, column in zip(defaults, (hours, remote, mx, active), strict=True)
        )
        yield MemberFields(pks, ids, hours, [bool(v) for v in remote], mx, active, communes, postcodes, causes)


def _need_records(tx: Tx, territory_pk: int, today: dt.date) -> dict[int, tuple[NeedRecord, str, dict[str, Any]]]:
    out = {}
    for pk, ext, hours, remote, commune, causes in queries.need_fields(tx, territory_pk=territory_pk, today=today):
        need = NeedRecord(ext, _or(hours, Need, "hours_per_week"), bool(_or(remote, Need, "remote")))
        out[pk] = (need, "", {"commune": commune, "causes": causes or []})
    return out


def _project_records(tx: Tx, territory_pk: int) -> dict[int, ProjectRecord]:
    return {
        pk: ProjectRecord(ext, Stage(stage), bool(_or(legal, Project, "legal_structure")), commune, causes or [])
        for pk, ext, stage, legal, commune, causes in queries.project_fields(tx, territory_pk=territory_pk)
    }


class _MemberSide:
    """Members who may be suggested: mask and columns, with the members written since they were read."""

    def __init__(self) -> None:
        self.validated: Validated[Member] = Validated(_members)
        self.available: np.ndarray | None = None
        self.columns: MemberColumns | None = None
        self.dirty: set[int] = set()  # written since the mask and columns were read


class _NeedSide:
    """The open calls for skills of one day."""

    def __init__(self, day: dt.date | None = None) -> None:
        self.validated: Validated[tuple[Need, str, dict[str, Any]]] = Validated(_needs)
        self.day = day
        self.open: np.ndarray | None = None
        self.columns: NeedColumns | None = None


class _ProjectSide:
    """The territory's projects: ids, stages and id order, eligible projects per offering."""

    def __init__(self) -> None:
        self.validated: Validated[Project] = Validated(_projects)
        self.columns: ProjectColumns | None = None
        self.eligible: dict[tuple[int, str], np.ndarray] = {}  # (offering pk, eligibility key) -> project pks


class TerritoryReadModel:
    """The candidates' side of one territory (see the module's docstring for what and how long)."""

    def __init__(self, territory_pk: int, clock: Clock) -> None:
        self.territory_pk = territory_pk
        self._clock = clock
        self._lock = threading.RLock()
        self._members = _MemberSide()
        self._needs = _NeedSide()
        self._projects = _ProjectSide()
        self._catalogue: Catalogue | None = None
        self._contacts: tuple[float, dt.datetime, dict[str, int]] | None = None  # (read at, window start, counts)

    # -- the one way in ------------------------------------------------------------------------
    def apply(self, changes: Changes) -> None:
        """Follow a committed unit of work: drop or mark what it touched in this territory."""
        tpk = self.territory_pk
        with self._lock:
            members = changes.written["member"].get(tpk)
            if members:
                self._members.validated.drop(members)
                self._members.dirty |= members
            if changes.written["project"].get(tpk):
                self._needs, self._projects = _NeedSide(), _ProjectSide()
            # the catalogue's learned examples are projects' texts, read through their holder's
            # consent and the accepted outcomes: events make a new catalogue, and so do project
            # and member writes once any project was accepted
            learns = self._catalogue is not None and self._catalogue.learns
            if (
                changes.written["partner"].get(tpk)
                or tpk in changes.events
                or (learns and (changes.written["project"].get(tpk) or members))
            ):
                self._catalogue = None
            if tpk in changes.events:
                self._contacts = None

    # -- members -----------------------------------------------------------------------------------
    def available_members(self, tx: Tx) -> np.ndarray:
        """Boolean array by member pk: consenting, below their maximum engagements (read-only)."""
        with self._lock:  # a write in between cannot be missed (see _refresh_members)
            self._refresh_members(tx)
            if self._members.available is None:
                self._members.available = _mask(queries.available_member_pks(tx, territory_pk=self.territory_pk))
            return self._members.available

    def member_columns(self, tx: Tx) -> MemberColumns:
        """Column arrays of the suggestible members."""
        with self._lock:
            self._refresh_members(tx)
            if self._members.columns is None:
                cols = MemberColumns(_member_fields(queries.member_fields(tx, territory_pk=self.territory_pk)))
                # the mask from the same reading as the columns: no suggestible member without its row
                self._members.available = _mask(list(cols.pk_of.values()))
                self._members.columns = cols
            return self._members.columns

    def members(self, tx: Tx, pks: list[int]) -> dict[int, Member]:
        return self._members.validated.get(tx, pks)

    def _refresh_members(self, tx: Tx) -> None:
        """Bring the mask and columns up to date with the members written: only their rows are
        read again, so a profile update costs milliseconds on the next question."""
        side = self._members
        if not side.dirty:
            return
        dirty = sorted(side.dirty)
        state = queries.member_states(tx, pks=dirty)
        if side.available is not None:
            now_available = [pk for pk in dirty if state.get(pk) == (self.territory_pk, True)]
            mask = np.concatenate([side.available, np.zeros(max(0, max(dirty) + 1 - len(side.available)), dtype=bool)])
            mask[dirty] = False  # deleted, no longer available
            mask[now_available] = True
            mask.flags.writeable = False
            side.available = mask
            if side.columns is not None:
                fields = list(_member_fields(queries.member_fields(tx, pks=now_available)))
                merged = MemberFields(*([v for f in fields for v in getattr(f, name)] for name in MemberFields._fields))
                cols = side.columns.with_members(merged)
                # rows replaced pile up: past the live ones, the next question rebuilds
                side.columns = cols if cols.unused_rows <= len(cols.pk_of) else None
        side.dirty = set()

    # -- calls for skills ----------------------------------------------------------------------------
    def _need_side(self) -> _NeedSide:
        today = self._clock.today()
        if self._needs.day != today:
            self._needs = _NeedSide(today)
        return self._needs

    def open_needs(self, tx: Tx) -> np.ndarray:
        """Boolean array by need pk: open, deadline not passed (the clock's day; read-only)."""
        side = self._need_side()
        if side.open is None:
            side.open = _mask(queries.open_need_pks(tx, territory_pk=self.territory_pk, today=side.day))
        return side.open

    def need_columns(self, tx: Tx) -> NeedColumns:
        side = self._need_side()
        if side.columns is None:
            records = _need_records(tx, self.territory_pk, side.day)
            side.columns = NeedColumns(records)
            side.open = _mask(list(records))  # the mask from the same reading as the columns
        return side.columns

    def needs(self, tx: Tx, pks: list[int]) -> dict[int, tuple[Need, str, dict[str, Any]]]:
        """Validated needs with their project's id and document."""
        return self._need_side().validated.get(tx, pks)

    # -- projects -------------------------------------------------------------------------------------
    def projects(self, tx: Tx, pks: list[int]) -> dict[int, Project]:
        """Validated projects (without their needs)."""
        return self._projects.validated.get(tx, pks)

    def project_columns(self, tx: Tx) -> ProjectColumns:
        side = self._projects
        if side.columns is None:
            side.columns = ProjectColumns(_project_records(tx, self.territory_pk))
        return side.columns

    def projects_at(self, tx: Tx, stages: set[Stage] | None) -> np.ndarray:
        """Pks of the territory's projects at these stages (all when None)."""
        cols = self.project_columns(tx)
        positions = [n for n, stage in enumerate(Stage) if stages is None or stage in stages]
        return np.flatnonzero(np.isin(cols.stage, positions))

    def eligible_projects(self, tx: Tx, offering_pk: int, offering: Offering) -> np.ndarray:
        """Pks of the projects at a stage the offering serves that meet its eligibility rules."""
        key = (offering_pk, filters.eligibility_key(offering))
        side = self._projects
        allowed = side.eligible.get(key)
        if allowed is None:
            allowed = side.eligible[key] = self.project_columns(tx).eligible(offering)
        return allowed

    # -- offerings ----------------------------------------------------------------------------------
    def catalogue(self, tx: Tx) -> Catalogue:
        """The territory's offerings by pk, with their partner's id and name."""
        if self._catalogue is None:
            learned, accepted = queries.learned_examples(
                tx, territory_pk=self.territory_pk, question="offering_for_project", per_offering=LEARNED_EXAMPLES_PER_OFFERING
            )
            self._catalogue = Catalogue(
                {
                    pk: (Offering.model_validate(data), pid, pdata["name"])
                    for pk, data, pid, pdata in queries.catalogue(tx, territory_pk=self.territory_pk)
                },
                learned=learned,
                learns=accepted,
            )
        return self._catalogue

    # -- exposure -------------------------------------------------------------------------------------
    def contact_counts(self, tx: Tx, since: dt.datetime, *, cached: bool) -> dict[str, int]:
        """Contacts per member since a date; a live request reuses the counts until an event is
        applied, for at most ``CONTACTS_MAX_AGE`` seconds (of time, and of the window's start)."""
        if not cached:
            return events.contact_counts(tx, territory_pk=self.territory_pk, since=since)
        hit = self._contacts
        if hit is not None:
            read_at, window_start, counts = hit
            slid = (since - window_start).total_seconds()
            if time.monotonic() - read_at < CONTACTS_MAX_AGE and 0 <= slid < CONTACTS_MAX_AGE:
                return counts
        counts = events.contact_counts(tx, territory_pk=self.territory_pk, since=since)
        self._contacts = (time.monotonic(), since, counts)
        return counts

    def warm_up(self, tx: Tx) -> None:
        """Read what the first questions would: member, need and project columns, the catalogue."""
        self.member_columns(tx)
        self.need_columns(tx)
        self.project_columns(tx)
        self.catalogue(tx)


class ReadModels:
    """The read model of each territory, and the one entry point of changes."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._models: dict[int, TerritoryReadModel] = {}
        self._pks: dict[str, int] = {}  # territory id -> pk (territories are never deleted)
        self._lock = threading.Lock()

    def territory_pk(self, tx: Tx, territory_id: str) -> int:
        pk = self._pks.get(territory_id)
        if pk is None:
            pk = self._pks[territory_id] = tx.territory_pk(territory_id)  # NotFound for an unknown one
        return pk

    def of(self, tx: Tx, territory_id: str) -> TerritoryReadModel:
        """The read model of a territory (NotFound for an unknown territory)."""
        return self.by_pk(self.territory_pk(tx, territory_id))

    def by_pk(self, territory_pk: int) -> TerritoryReadModel:
        model = self._models.get(territory_pk)
        if model is None:
            with self._lock:
                model = self._models.setdefault(territory_pk, TerritoryReadModel(territory_pk, self._clock))
        return model

    def apply(self, changes: Changes) -> None:
        """Follow a committed unit of work (each territory it touched)."""
        for model in list(self._models.values()):
            model.apply(changes)

    def reset(self) -> None:
        """Forget everything (the store was replaced or the indexes rebuilt)."""
        with self._lock:
            self._models, self._pks = {}, {}

    def warm_up(self, tx: Tx) -> None:
        for tpk in queries.territory_pks(tx):
            self.by_pk(tpk).warm_up(tx)
