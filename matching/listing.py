"""Finding things: the territory's projects, calls for skills, partners and members, filtered and
paged, for the list endpoints (``GET /territories/{t}/projects?…``) and the home page.

The store reads the rows (``matching.store.queries``: a territory's documents, open calls only
when asked); the filters here are plain functions of the documents: ``stage`` exact, ``commune``
and ``cause`` without regard to case or accents, ``q`` every word of it somewhere in the
entity's texts (accents and case ignored). Results come in a stable order (stage then title for
projects, name for partners and members) and are cut in pages of ``per_page`` (20).

A territory holds thousands of entities: reading its documents and filtering them in Python is
a few milliseconds. Nothing here ranks: the questions do (``matching.questions``).

Example:
    >>> page = projects(rec, "sceaux-valley", stage="financement", q="épicerie")  # doctest: +SKIP
    >>> page.total, [p["id"] for p in page.items]  # doctest: +SKIP
    (1, ['p0001'])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from matching.domain import Stage
from matching.store import queries
from matching.text import strip_accents

if TYPE_CHECKING:
    from matching.recommender import Recommender

PER_PAGE = 20
MAX_PER_PAGE = 100


def fold(text: str | None) -> str:
    """Lower case, without accents: what the filters compare."""
    return strip_accents(text or "").casefold().strip()


@dataclass(frozen=True)
class Filters:
    """What a list is filtered by (every field optional)."""

    stage: Stage | None = None
    commune: str | None = None
    cause: str | None = None
    q: str | None = None

    def words(self) -> list[str]:
        return fold(self.q).split()

    @property
    def active(self) -> bool:
        return any((self.stage, self.commune, self.cause, self.q))


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, how many match in all, which page."""

    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    filters: Filters = field(default_factory=Filters)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "page": self.page, "pages": self.pages, "per_page": self.per_page}


def _keeps(f: Filters, *, stage: str | None, commune: str | None, causes: Iterable[str], texts: Iterable[str | None]) -> bool:
    if f.stage is not None and stage != f.stage.value:
        return False
    if f.commune and fold(commune) != fold(f.commune):
        return False
    if f.cause and fold(f.cause) not in {fold(c) for c in causes}:
        return False
    words = f.words()
    if words:
        haystack = " ".join(fold(t) for t in texts if t)
        return all(w in haystack for w in words)
    return True


def paginate(items: list[dict[str, Any]], page: int, per_page: int = PER_PAGE, filters: Filters | None = None) -> Page:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    start = (page - 1) * per_page
    return Page(items[start : start + per_page], len(items), page, per_page, filters or Filters())


def _read(rec: Recommender, territory_id: str, fn: Callable[..., Any], **kw: Any) -> Any:
    with rec.store.read() as tx:
        return fn(tx, territory_pk=tx.territory_pk(territory_id), **kw)


def project_lines(
    rec: Recommender, territory_id: str, f: Filters, *, holder: str | None = None, show_holder: Callable[[str | None], bool]
) -> list[dict[str, Any]]:
    """Every project that passes the filters (only ``holder``'s when given), in stage then title
    order; ``holder`` shows only where ``show_holder(holder)`` says so."""
    lines = []
    for ext, data, open_needs in _read(rec, territory_id, queries.projects_overview):
        if holder is not None and data.get("holder") != holder:
            continue
        causes = data.get("causes", [])
        if not _keeps(
            f, stage=data.get("stage"), commune=data.get("commune"), causes=causes, texts=(data["title"], data.get("description"))
        ):
            continue
        lines.append(
            {
                "id": ext,
                "title": data["title"],
                "stage": data.get("stage", Stage.IDEE.value),
                "commune": data.get("commune"),
                "causes": causes,
                "holder": data.get("holder") if show_holder(data.get("holder")) else None,
                "open_needs": open_needs,
            }
        )
    return sorted(lines, key=lambda p: (Stage(p["stage"]).rank, fold(p["title"]), p["id"]))


def projects(
    rec: Recommender,
    territory_id: str,
    f: Filters = Filters(),
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    holder: str | None = None,
    show_holder: Callable[[str | None], bool] = lambda _: False,
) -> Page:
    """A page of the territory's projects (see ``project_lines``)."""
    return paginate(project_lines(rec, territory_id, f, holder=holder, show_holder=show_holder), page, per_page, f)


def needs(
    rec: Recommender, territory_id: str, f: Filters = Filters(), *, status: str = "open", page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """A page of the calls for skills (``status``: ``open``, the default, those still open whose
    deadline has not passed; ``closed``; ``all``); stage, commune and causes are their project's."""
    today = rec.clock.today() if status == "open" else None
    rows = _read(rec, territory_id, queries.needs_listing, status=None if status == "all" else status, today=today)
    items = []
    for ext, data, pid, pdata in rows:
        if not _keeps(
            f,
            stage=pdata.get("stage"),
            commune=pdata.get("commune"),
            causes=pdata.get("causes", []),
            texts=(data["title"], data.get("text"), pdata["title"]),
        ):
            continue
        items.append(
            {
                "id": ext,
                "title": data["title"],
                "text": data.get("text", ""),
                "hours_per_week": data.get("hours_per_week"),
                "remote": data.get("remote", False),
                "deadline": data.get("deadline"),
                "headcount": data.get("headcount", 1),
                "status": data.get("status", "open"),
                "project_id": pid,
                "project_title": pdata["title"],
                "stage": pdata.get("stage", Stage.IDEE.value),
                "commune": pdata.get("commune"),
            }
        )
    items.sort(key=lambda n: (fold(n["project_title"]), fold(n["title"]), n["id"]))
    return paginate(items, page, per_page, f)


def partners(rec: Recommender, territory_id: str, f: Filters = Filters(), *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """A page of the partners; ``stage``: those with an offering at that stage; ``commune`` and
    ``cause``: those with an offering open to it (an offering without such a rule is open to all)."""
    items = []
    for ext, data, offerings in _read(rec, territory_id, queries.partners_listing):
        stages = sorted({s for o in offerings for s in o.get("stages", [])}, key=lambda s: Stage(s).rank)
        if f.stage is not None and f.stage.value not in stages:
            continue
        rules = [o.get("eligibility", {}) for o in offerings]
        if f.commune and not any(not r.get("communes") or fold(f.commune) in map(fold, r["communes"]) for r in rules):
            continue
        if f.cause and not any(not r.get("causes") or fold(f.cause) in map(fold, r["causes"]) for r in rules):
            continue
        texts = [data["name"], data.get("description"), *(t for o in offerings for t in (o["title"], o.get("text")))]
        if not _keeps(Filters(q=f.q), stage=None, commune=None, causes=(), texts=texts):
            continue
        items.append(
            {
                "id": ext,
                "name": data["name"],
                "description": data.get("description", ""),
                "stages": stages,
                "offerings": [{"id": o["id"], "title": o["title"]} for o in offerings],
            }
        )
    items.sort(key=lambda p: (fold(p["name"]), p["id"]))
    return paginate(items, page, per_page, f)


def members(rec: Recommender, territory_id: str, f: Filters = Filters(), *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """A page of the members (no contact field: whoever may see one reads the member itself)."""
    items = []
    for ext, data, available in _read(rec, territory_id, queries.members_overview):
        texts = (data["display_name"], data.get("skills"), " ".join(data.get("skill_tags", [])), data.get("bio"))
        if not _keeps(f, stage=None, commune=data.get("commune"), causes=data.get("causes", []), texts=texts):
            continue
        items.append(
            {
                "id": ext,
                "display_name": data["display_name"],
                "commune": data.get("commune"),
                "causes": data.get("causes", []),
                "skill_tags": data.get("skill_tags", []),
                "hours_per_week": data.get("hours_per_week"),
                "available": available,
            }
        )
    items.sort(key=lambda m: (fold(m["display_name"]), m["id"]))
    return paginate(items, page, per_page, f)


def taken_ids(rec: Recommender, territory_id: str, kind: str) -> set[str]:
    """The external ids of one kind already used in the territory (to make a new one)."""
    return set(_read(rec, territory_id, queries.ext_ids, kind=kind))
