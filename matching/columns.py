"""Column arrays of a territory's candidates, for the read path.

A request scores a pool of a few hundred candidates. Doing that one candidate at a time in
Python (a dict of components each, a weighted sum each) cost more than the vector search
itself, so the fields the structured components read are kept here as numpy arrays indexed
by the store's primary key, and the components of a whole pool are computed at once.

The values are those of ``matching.scoring`` to the last bit: the same float64 operations
in the same order, and the commune distances computed by the same Python function once per
distinct place (a territory has few).

The read model (``matching.readmodel``) builds these columns lazily and follows the writes
that touch them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from matching import filters, scoring
from matching.domain import Member, Need, Offering, Project, Stage
from matching.geo import Communes, proximity


def _rank(ext_ids: list[str]) -> np.ndarray:
    """Position of each external id in sorted order (the tie-break of equal scores)."""
    order = sorted(range(len(ext_ids)), key=ext_ids.__getitem__)
    rank = np.empty(len(ext_ids), dtype=np.int64)
    rank[order] = np.arange(len(ext_ids))
    return rank


class _Causes:
    """A boolean matrix (row, cause key): which rows name which causes."""

    def __init__(self, lists: list[list[str]], vocabulary: dict[str, int] | None = None) -> None:
        self.vocabulary: dict[str, int] = dict(vocabulary or {})
        vocab, key = self.vocabulary, scoring.cause_key
        rows: list[int] = []
        cols: list[int] = []
        count = np.zeros(len(lists), dtype=np.int64)
        for n, causes in enumerate(lists):
            if not causes:
                continue
            keys = sorted({key(c) for c in causes})
            count[n] = len(keys)
            rows += [n] * len(keys)
            cols += [vocab.setdefault(k, len(vocab)) for k in keys]
        self.matrix = np.zeros((len(lists), max(1, len(vocab))), dtype=bool)
        self.matrix[rows, cols] = True  # one assignment for every row (a million members)
        self.count = count

    def appended(self, lists: list[list[str]]) -> _Causes:
        """A new matrix with rows for these lists after the current ones."""
        more = _Causes(lists, self.vocabulary)
        width = more.matrix.shape[1]
        old = np.zeros((len(self.matrix), width), dtype=bool)
        old[:, : self.matrix.shape[1]] = self.matrix
        more.matrix = np.vstack([old, more.matrix])
        more.count = np.concatenate([self.count, more.count])
        return more

    def columns(self, causes: Iterable[str]) -> tuple[list[int], int]:
        """The matrix columns of a list of causes (those nobody names have none), and how many distinct keys it has."""
        keys = {scoring.cause_key(c) for c in causes}
        return [self.vocabulary[k] for k in keys if k in self.vocabulary], len(keys)


class _Places:
    """Distinct (commune, postcode) of members by number, and their proximity to a project's commune.

    Numbers never change once given, so the proximities are shared by every copy
    (``copy`` gives a numbering that extends this one).
    """

    def __init__(self) -> None:
        self.number: dict[tuple[str | None, str | None], int] = {}
        self.names: list[tuple[str | None, str | None]] = []  # by number
        self._proximity: dict[tuple[int, str | None], float] = {}  # (place, commune) -> value

    def copy(self) -> _Places:
        new = copy.copy(self)
        new.number, new.names = dict(self.number), list(self.names)
        return new

    def of(self, member: Member) -> int:
        return self.of_key((member.commune, member.postcode))

    def of_key(self, key: tuple[str | None, str | None]) -> int:
        number = self.number.get(key)
        if number is None:
            number = self.number[key] = len(self.names)
            self.names.append(key)
        return number

    def proximity(self, place: int, commune: str | None) -> float:
        """``matching.geo.proximity`` of the distance between a place and a commune."""
        value = self._proximity.get((place, commune))
        if value is None:
            member_commune, postcode = self.names[place]
            distance = Communes.default().distance_km(member_commune, commune, postcode_a=postcode)
            value = self._proximity[(place, commune)] = proximity(distance)
        return value


class MemberFields(NamedTuple):
    """What ``MemberColumns`` reads of some members, one list per field (aligned)."""

    pks: list[int]
    ids: list[str]
    hours_per_week: list[float]
    remote_ok: list[bool]
    max_engagements: list[int]
    active_engagements: list[int]
    communes: list[str | None]
    postcodes: list[str | None]
    causes: list[list[str]]

    @classmethod
    def of(cls, members: dict[int, Member]) -> MemberFields:
        ms = list(members.values())
        return cls(
            list(members),
            [m.id for m in ms],
            [m.hours_per_week for m in ms],
            [m.remote_ok for m in ms],
            [m.max_engagements for m in ms],
            [m.active_engagements for m in ms],
            [m.commune for m in ms],
            [m.postcode for m in ms],
            [m.causes for m in ms],
        )


class MemberColumns:
    """The fields of the suggestible members of a territory that the scores read, by pk.

    Rows are only ever appended: ``with_members`` returns new columns (the old ones stay
    valid for the requests reading them) where the given members get new rows and their pk
    points to them; the rows they replace are left unused.
    """

    def __init__(self, members: dict[int, Member] | Iterable[MemberFields] = ()) -> None:
        """``members``: by pk, or chunks of their fields (``MemberFields``, read and dropped one at
        a time: at a million members, no object per member is kept, only these arrays)."""
        self.row = np.zeros(0, dtype=np.int64)  # pk -> row, -1 for none
        self.ext_ids: list[str] = []  # by row
        self.pk_of: dict[str, int] = {}
        self.rank = np.zeros(0, dtype=np.int64)  # by row: position of the external id in sorted order
        self.hours = np.zeros(0, dtype=np.float64)
        self.remote_ok = np.zeros(0, dtype=bool)
        self.load_of = np.zeros(0, dtype=np.float64)  # by row: ``scoring.load``
        self.place = np.zeros(0, dtype=np.int64)  # by row: the number of the member's place
        self.places = _Places()
        self.causes = _Causes([])
        self._append([MemberFields.of(members)] if isinstance(members, dict) else members)

    @property
    def unused_rows(self) -> int:
        return len(self.ext_ids) - len(self.pk_of)

    def with_members(self, members: dict[int, Member] | MemberFields) -> MemberColumns:
        """New columns where these members (new or changed) have fresh rows."""
        new = copy.copy(self)
        new.ext_ids, new.pk_of, new.places = list(self.ext_ids), dict(self.pk_of), self.places.copy()
        new._append([MemberFields.of(members) if isinstance(members, dict) else members])
        return new

    def _append(self, chunks: Iterable[MemberFields]) -> None:
        start = len(self.ext_ids)
        pk_parts, parts, causes, known = [], [], [], True
        old_rank: list[int] = []
        for f in chunks:
            if not f.pks:
                continue
            pk_parts.append(np.asarray(f.pks, dtype=np.int64))
            if known and all(m in self.pk_of for m in f.ids):  # only changes: the sorted order of ids stays
                old_rank += [int(self.rank[self.row[self.pk_of[m]]]) for m in f.ids]
            else:
                known = False
            maximum = np.asarray(f.max_engagements, dtype=np.int64)
            active = np.asarray(f.active_engagements, dtype=np.int64)
            share = np.divide(active, maximum, out=np.zeros(len(maximum)), where=maximum > 0)
            of_key = self.places.of_key
            parts.append(
                (
                    np.asarray(f.hours_per_week, dtype=np.float64),
                    np.asarray(f.remote_ok, dtype=bool),
                    np.where(maximum > 0, np.maximum(0.0, 1.0 - share), 0.0),
                    np.fromiter(map(of_key, zip(f.communes, f.postcodes, strict=True)), dtype=np.int64, count=len(f.pks)),
                )
            )
            causes += f.causes
            self.ext_ids += f.ids
        if not pk_parts:
            return
        pks = np.concatenate(pk_parts)
        row = np.full(max(len(self.row), int(pks.max()) + 1), -1, dtype=np.int64)
        row[: len(self.row)] = self.row
        row[pks] = np.arange(start, start + len(pks))
        self.row = row
        self.pk_of.update(zip(self.ext_ids[start:], pks.tolist(), strict=True))
        self.rank = np.concatenate([self.rank, np.array(old_rank, dtype=np.int64)]) if known else _rank(self.ext_ids)
        hours, remote, load, place = (np.concatenate(column) for column in zip(*parts, strict=True))
        self.hours = np.concatenate([self.hours, hours])
        self.remote_ok = np.concatenate([self.remote_ok, remote])
        self.load_of = np.concatenate([self.load_of, load])
        self.place = np.concatenate([self.place, place])
        self.causes = self.causes.appended(causes)

    def rows(self, pks: np.ndarray) -> np.ndarray:
        return self.row[pks]

    def availability(self, rows: np.ndarray, asked_hours: float) -> np.ndarray:
        """``scoring.availability`` of each row for the hours a need asks."""
        if asked_hours <= 0:
            return np.ones(len(rows))
        return np.minimum(1.0, self.hours[rows] / asked_hours)

    def place_score(self, rows: np.ndarray, need_remote: bool, commune: str | None) -> np.ndarray:
        """``scoring.place`` of each row for a need (remote or not) of a project in ``commune``."""
        distinct, inverse = np.unique(self.place[rows], return_inverse=True)
        values = np.array([self.places.proximity(p, commune) for p in distinct.tolist()], dtype=np.float64)[inverse]
        if need_remote:
            values[self.remote_ok[rows]] = 1.0
        return values

    def load(self, rows: np.ndarray) -> np.ndarray:
        """``scoring.load`` of each row."""
        return self.load_of[rows]

    def causes_share(self, rows: np.ndarray, project_causes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``scoring.causes`` of each row and whether it is defined (both lists non-empty)."""
        columns, wanted = self.causes.columns(project_causes)
        present = self.causes.count[rows] > 0 if wanted else np.zeros(len(rows), dtype=bool)
        if not wanted:
            return np.zeros(len(rows)), present
        shared = self.causes.matrix[np.ix_(rows, columns)].sum(axis=1) if columns else np.zeros(len(rows), dtype=np.int64)
        return shared / wanted, present


class NeedColumns:
    """The fields of the open needs of a territory that the scores read, by pk."""

    def __init__(self, needs: dict[int, tuple[Need, str, dict[str, Any]]]) -> None:
        pks = np.fromiter(needs, dtype=np.int64, count=len(needs))
        size = int(pks.max()) + 1 if len(pks) else 0
        self.row = np.full(size, -1, dtype=np.int64)
        self.row[pks] = np.arange(len(pks))
        items = list(needs.values())
        self.rank = _rank([need.id for need, _, _ in items])
        self.hours = np.fromiter((need.hours_per_week for need, _, _ in items), dtype=np.float64, count=len(items))
        self.remote = np.fromiter((need.remote for need, _, _ in items), dtype=bool, count=len(items))
        communes: dict[str | None, int] = {}
        self.commune = np.fromiter(
            (communes.setdefault(pdata.get("commune"), len(communes)) for _, _, pdata in items), dtype=np.int64, count=len(items)
        )
        self.communes = list(communes)
        self.causes = _Causes([pdata.get("causes", []) for _, _, pdata in items])

    def rows(self, pks: np.ndarray) -> np.ndarray:
        return self.row[pks]

    def availability(self, rows: np.ndarray, offered_hours: float) -> np.ndarray:
        """``scoring.availability`` of a member's hours for each need."""
        asked = self.hours[rows]
        share = np.divide(offered_hours, asked, out=np.ones(len(rows)), where=asked > 0)
        return np.where(asked > 0, np.minimum(1.0, share), 1.0)

    def place_score(self, rows: np.ndarray, member: Member) -> np.ndarray:
        """``scoring.place`` of a member for each need (its project's commune)."""
        distinct, inverse = np.unique(self.commune[rows], return_inverse=True)
        values = np.array(
            [proximity(scoring.member_distance_km(member, self.communes[c])) for c in distinct.tolist()], dtype=np.float64
        )[inverse]
        if member.remote_ok:
            values[self.remote[rows]] = 1.0
        return values

    def causes_share(self, rows: np.ndarray, member_causes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``scoring.causes`` of a member for each need (its project's causes) and whether it is defined."""
        columns, has = self.causes.columns(member_causes)
        wanted = self.causes.count[rows]
        present = (wanted > 0) & bool(has)
        shared = self.causes.matrix[np.ix_(rows, columns)].sum(axis=1) if columns else np.zeros(len(rows), dtype=np.int64)
        return np.divide(shared, wanted, out=np.zeros(len(rows)), where=wanted > 0), present


class ProjectColumns:
    """Stage, id order and what eligibility rules read of a territory's projects, by pk (the read
    path of "projects for a partner").

    ``stage[pk]`` is the position of the project's stage in ``Stage``; ``rank[pk]`` the position
    of its external id in sorted order (the tie-break of equal scores); -1 for no project.
    ``eligible`` gives the projects an offering's rules admit as arrays (``filters.eligible``).
    """

    def __init__(self, projects: dict[int, Project]) -> None:
        pks = np.fromiter(projects, dtype=np.int64, count=len(projects))
        size = int(pks.max()) + 1 if len(pks) else 0
        stages = {stage: n for n, stage in enumerate(Stage)}
        items = list(projects.values())
        self.stage = np.full(size, -1, dtype=np.int64)
        self.stage[pks] = [stages[p.stage] for p in items]
        self.rank = np.full(size, -1, dtype=np.int64)
        self.rank[pks] = _rank([p.id for p in items])
        self.legal = np.zeros(size, dtype=bool)
        self.legal[pks] = [bool(p.legal_structure) for p in items]
        self._communes: dict[str, int] = {}  # normalised commune -> code
        self.commune = np.full(size, -1, dtype=np.int64)  # -1: none
        self.commune[pks] = [
            self._communes.setdefault(filters.norm(p.commune), len(self._communes)) if p.commune else -1 for p in items
        ]
        self._causes: dict[str, int] = {}
        rows = [{self._causes.setdefault(filters.norm(c), len(self._causes)) for c in p.causes} for p in items]
        self.causes = np.zeros((size, max(1, len(self._causes))), dtype=bool)
        for pk, row in zip(pks.tolist(), rows, strict=True):
            self.causes[pk, list(row)] = True

    def eligible(self, offering: Offering) -> np.ndarray:
        """Pks of the projects at a stage the offering serves that meet its rules (ascending);
        what ``filters.eligible`` says of each, with arrays."""
        rules = offering.eligibility
        if offering.capacity <= 0:
            return np.zeros(0, dtype=np.int64)
        ok = np.isin(self.stage, [n for n, stage in enumerate(Stage) if stage in offering.stages])
        if rules.requires_legal_structure:
            ok &= self.legal
        if rules.communes:
            ok &= np.isin(
                self.commune, [self._communes[c] for c in {filters.norm(c) for c in rules.communes} if c in self._communes]
            )
        if rules.causes:
            wanted = [self._causes[c] for c in {filters.norm(c) for c in rules.causes} if c in self._causes]
            ok &= self.causes[:, wanted].any(axis=1) if wanted else False
        return np.flatnonzero(ok).astype(np.int64)

    @staticmethod
    def stage_fit(offering: Offering) -> np.ndarray:
        """``scoring.stage_fit`` of the offering for each stage, in the order of ``Stage``."""
        return np.array([scoring.stage_fit(offering.stages, stage) for stage in Stage])


class Catalogue:
    """A territory's offerings by pk, with their partner's id and name, and what the read path
    needs of them as arrays: the order of their ids (the tie-break) and the stages they serve.

    ``offerings[pk]`` is ``(offering, partner id, partner name)``, in pk order.
    """

    def __init__(
        self,
        offerings: dict[int, tuple[Offering, str, str]],
        learned: dict[str, list[str]] | None = None,
        *,
        learns: bool = False,
    ) -> None:
        self.offerings = offerings
        pks = np.fromiter(offerings, dtype=np.int64, count=len(offerings))
        size = int(pks.max()) + 1 if len(pks) else 0
        self.rank = np.full(size, -1, dtype=np.int64)
        self.rank[pks] = _rank([off.id for off, _, _ in offerings.values()])
        # the requests each offering answers: the partner's examples, then what outcomes taught
        # (the texts of the projects it was accepted for, ``learned``)
        learned = learned or {}
        self.learns = learns  # some project was accepted for an offering (its holder's consent aside)
        self.examples = {pk: [*off.examples, *learned.get(off.id, [])] for pk, (off, _, _) in offerings.items()}
        self._example_vectors: tuple[np.ndarray, np.ndarray, list[str]] | None = None

    def example_vectors(self, encode: Callable[[list[str]], np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Every example's vector (one row each), the pk of its offering, its text; encoded once
        per catalogue (a partner's write or an outcome makes a new catalogue)."""
        if self._example_vectors is None:
            owners = [pk for pk, texts in self.examples.items() for _ in texts]
            texts = [t for ts in self.examples.values() for t in ts]
            vectors = encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
            self._example_vectors = (np.asarray(vectors, dtype=np.float32), np.asarray(owners, dtype=np.int64), texts)
        return self._example_vectors

    def best_examples(
        self, query_vectors: np.ndarray, pks: np.ndarray, encode: Callable[[list[str]], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
        """For each offering of ``pks``: the best cosine between a query sentence and one of its
        examples, whether it has examples at all, and that example's text."""
        vectors, owners, texts = self.example_vectors(encode)
        best = np.zeros(len(pks), dtype=np.float32)
        present = np.zeros(len(pks), dtype=bool)
        which: list[str | None] = [None] * len(pks)
        if not len(owners) or not len(pks):
            return best, present, which
        sims = (np.atleast_2d(query_vectors) @ vectors.T).max(axis=0)  # each example against its best query sentence
        position = {int(pk): n for n, pk in enumerate(pks.tolist())}
        for e, pk in enumerate(owners.tolist()):
            n = position.get(pk)
            if n is not None and (not present[n] or sims[e] > best[n]):
                best[n], present[n], which[n] = sims[e], True, texts[e]
        return best, present, which

    def of_partner(self, partner_id: str) -> list[tuple[int, Offering]]:
        return [(pk, off) for pk, (off, pid, _) in self.offerings.items() if pid == partner_id]

    def at(self, stages: set[Stage] | None) -> set[int]:
        """Pks of the offerings serving one of these stages (all when None)."""
        return {pk for pk, (off, _, _) in self.offerings.items() if stages is None or stages & set(off.stages)}

    def stage_fit(self, pks: np.ndarray, stage: Stage) -> np.ndarray:
        """``scoring.stage_fit`` of each offering for a project at ``stage``."""
        return np.array([scoring.stage_fit(self.offerings[int(pk)][0].stages, stage) for pk in pks.tolist()], dtype=np.float64)
