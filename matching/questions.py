"""The questions: one pipeline, and one declarative spec per question.

Every question runs the same steps::

    subject (read fresh from the store)
      -> probes: what to search with, among which allowed candidates (read model filters)
      -> channels: a pool from the index set (``hybrid`` or ``sentences``, ``matching.retrieval``)
      -> structured components of the pool (``matching.columns``)
      -> one score per candidate (``fusion.weighted_mean`` with the question's weights)
      -> best candidate per id over the probes, order by score then tie-break, top k
      -> matches with labels and French reasons (only for what is returned)

A ``QuestionSpec`` says, for one question, what each step is: adding a question is adding a
spec. ``ask(spec, context)`` runs it.

Example:
    >>> ask(MEMBER_FOR_NEED, context)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from embeddings.indexset import IndexSet
from matching import explain, filters, fusion, reciprocal, retrieval, scoring
from matching import text as textlib
from matching.clock import Clock
from matching.columns import ProjectColumns
from matching.domain import PENDING_STATES, REFUSED_CANDIDATE, TARGET_KINDS, Match, Member, Need, Offering, Project, Stage
from matching.errors import InvalidRequest, NotFound
from matching.readmodel import TerritoryReadModel
from matching.retrieval import Pool
from matching.scoring import Weights
from matching.store import Tx, events, queries
from matching.textnorm import normalise_text


@dataclass(frozen=True)
class Ask:
    """A question as asked: its subject (an id, or a free text) and options."""

    subject_id: str
    k: int
    fair: bool = True  # members: apply the exposure policy
    diversity: float | None = None  # members: MMR trade-off (default: the policy's)
    now: dt.datetime | None = None  # members: reference time of the exposure window (default: the clock)
    target: str | None = None  # free text: members, needs, offerings or projects
    stage: Stage | None = None  # free text: offerings or projects at this stage


@dataclass
class Context:
    """What one question reads: the store (one read unit), the territory's read model, the index
    set, the weights and the clock."""

    tx: Tx
    model: TerritoryReadModel
    indexes: IndexSet
    weights: Weights
    clock: Clock
    ask: Ask


@dataclass
class Probe:
    """One search of a question: its text, the allowed candidates (ids or a boolean array by id),
    and what it stands for (the partner question probes once per offering)."""

    text: str
    allowed: Any
    queries: list[str] = field(default_factory=list)  # ``sentences`` channel: the query sentences
    about: Any = None


@dataclass
class Scored:
    """One probe's pool with its components (channel ones first), presence masks and scores."""

    probe: Probe
    pool: Pool
    present: dict[str, np.ndarray]
    scores: np.ndarray

    def breakdown(self, n: int) -> dict[str, float]:
        """The components of the candidate at ``n``, as Python floats: always the same names for
        one question. A component the candidate lacks (no causes given, no examples written) is
        shown as 0 and was left out of its score (``fusion.weighted_mean``'s ``present``)."""
        return {
            name: float(values[n]) if name not in self.present or self.present[name][n] else 0.0
            for name, values in self.pool.components.items()
        }


@dataclass(frozen=True)
class Hit:
    """A candidate kept for the answer: its pk, score and the probe position it came from."""

    pk: int
    score: float
    scored: Scored
    at: int

    @property
    def breakdown(self) -> dict[str, float]:
        return self.scored.breakdown(self.at)


@dataclass(frozen=True)
class QuestionSpec:
    """What each step of the pipeline is for one question.

    Attributes:
        name: the question (weights table, events, API answers).
        kind: the kind of candidates (``None``: from the free-text target).
        subject: reads the subject (``NotFound`` if unknown).
        probes: the searches of the question and their allowed candidates.
        channel: ``hybrid`` (dense ∪ lexical pool) or ``sentences`` (every allowed candidate
            against each query sentence).
        adapt: map the query with the kind's query adapter.
        components: adds the structured components to a probe's pool; returns their
            presence masks (a component some candidates lack).
        exclude: a candidate pk dropped after retrieval (the holder of a call for skills).
        tie_break: rank of each candidate pk among equals (by external id).
        shortlist: how many ordered candidates ``pick`` chooses from (default: k).
        pick: the final choice among the shortlist (MMR; default: the first k).
        matches: labels and reasons of the returned candidates.
    """

    name: str
    kind: str | None
    subject: Callable[[Context], Any]
    probes: Callable[[Context, Any], list[Probe]]
    components: Callable[[Context, Any, Probe, Pool], dict[str, np.ndarray]]
    tie_break: Callable[[Context, np.ndarray], np.ndarray]
    matches: Callable[[Context, Any, list[Hit]], list[Match]]
    channel: Literal["hybrid", "sentences"] = "hybrid"
    adapt: bool = True
    exclude: Callable[[Context, Any], int | None] | None = None
    shortlist: Callable[[Context], int] | None = None
    pick: Callable[[Context, list[Hit]], list[Hit]] | None = None


# -- the pipeline ----------------------------------------------------------------------------------------


def ask(spec: QuestionSpec, ctx: Context) -> list[Match]:
    """Run one question: the pipeline of the module's docstring, driven by ``spec``.

    A question is small linear algebra (a few hundred vectors): it runs on one BLAS thread.
    With BLAS threads of its own, each request contends with the others and with the
    encoder for the cores: on a busy 2-core machine "members for a need" took 15 ms instead
    of 4.5 ms (benchmarks/breakdown.py under load, 10 000 members).
    """
    with _blas().limit(limits=1, user_api="blas"):
        return _ask(spec, ctx)


@lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _ask(spec: QuestionSpec, ctx: Context) -> list[Match]:
    kind = spec.kind or TARGET_KINDS[ctx.ask.target or ""]
    weights = ctx.weights.for_question(spec.name)  # type: ignore[arg-type]
    params = ctx.weights.retrieval
    subject = spec.subject(ctx)
    scored = []
    for probe in spec.probes(ctx, subject):
        if spec.channel == "sentences":
            pool = retrieval.sentences(ctx.indexes, kind, probe.queries, probe.text, sorted(probe.allowed), weights=weights)
        else:
            pool = retrieval.hybrid(
                ctx.indexes,
                kind,
                probe.text,
                probe.allowed,
                pool=params.pool,
                weights=weights,
                feedback_top=params.feedback_top,
                adapt=spec.adapt,
            )
        excluded = spec.exclude(ctx, subject) if spec.exclude else None
        if excluded is not None:
            pool = pool.select(pool.ids != excluded)
        if not len(pool):
            continue
        present = spec.components(ctx, subject, probe, pool)
        scores = np.asarray(fusion.weighted_mean(pool.components, weights, present))
        if "wants" in pool.components and ctx.weights.reciprocal.combine == "harmonic":
            one_sided = fusion.weighted_mean(pool.components, {**weights, "wants": 0.0}, present)
            scores = np.asarray(fusion.harmonic(one_sided, pool.components["wants"], present["wants"]))
        scored.append(Scored(probe, pool, present, scores))
    if not scored:
        return []
    hits = _best(ctx, spec, scored)
    return spec.matches(ctx, subject, spec.pick(ctx, hits) if spec.pick else hits[: ctx.ask.k])


def _best(ctx: Context, spec: QuestionSpec, scored: list[Scored]) -> list[Hit]:
    """Each candidate once (its best probe, the first on a tie), ordered by score then tie-break."""
    pks = np.concatenate([s.pool.ids for s in scored])
    scores = np.concatenate([s.scores for s in scored])
    which = np.concatenate([np.full(len(s.pool), n) for n, s in enumerate(scored)])
    at = np.concatenate([np.arange(len(s.pool)) for s in scored])
    keep = np.arange(len(pks))
    if len(scored) > 1:
        by_pk = np.lexsort((which, -scores, pks))
        first = np.ones(len(by_pk), dtype=bool)
        first[1:] = pks[by_pk][1:] != pks[by_pk][:-1]
        keep = by_pk[first]
    n = spec.shortlist(ctx) if spec.shortlist else ctx.ask.k
    order = keep[np.lexsort((spec.tie_break(ctx, pks[keep]), -scores[keep]))][:n]
    return [Hit(int(pks[i]), float(scores[i]), scored[which[i]], int(at[i])) for i in order.tolist()]


# -- shared pieces -------------------------------------------------------------------------------------


def _member_rank(ctx: Context, pks: np.ndarray) -> np.ndarray:
    cols = ctx.model.member_columns(ctx.tx)
    return cols.rank[cols.rows(pks)]


def _need_rank(ctx: Context, pks: np.ndarray) -> np.ndarray:
    cols = ctx.model.need_columns(ctx.tx)
    return cols.rank[cols.rows(pks)]


def _project_rank(ctx: Context, pks: np.ndarray) -> np.ndarray:
    return ctx.model.project_columns(ctx.tx).rank[pks]


def _offering_rank(ctx: Context, pks: np.ndarray) -> np.ndarray:
    return ctx.model.catalogue(ctx.tx).rank[pks]


RANK_OF_KIND = {"member": _member_rank, "need": _need_rank, "project": _project_rank, "offering": _offering_rank}


def full_offerings(tx: Tx, model: TerritoryReadModel, *, exclude_project: str | None = None) -> set[int]:
    """Offerings whose pending suggestions reach their capacity: the project side's latest event
    is shown (by staff), contacted, accepted or no answer, and the partner did not refuse it
    (not interested, or withdrew); an offering the service only displayed is not pending."""
    pending = events.pending_per_candidate(
        tx,
        territory_pk=model.territory_pk,
        question="offering_for_project",
        states=PENDING_STATES,
        refused=REFUSED_CANDIDATE,
        exclude_subject=exclude_project,
    )
    if not pending:
        return set()
    return {pk for pk, (off, _, _) in model.catalogue(tx).offerings.items() if pending.get(off.id, 0) >= off.capacity}


# -- who could answer this call for skills? ----------------------------------------------------------------


@dataclass
class NeedSubject:
    need: Need
    text: str
    project: dict[str, Any]
    contacts: dict[str, int] = field(default_factory=dict)
    wants: dict[str, Any] = field(default_factory=dict)  # member id -> reciprocal.Wants, when computed

    @property
    def commune(self) -> str | None:
        return self.project.get("commune")

    @property
    def causes(self) -> list[str]:
        return self.project.get("causes", [])


def _need_subject(ctx: Context) -> NeedSubject:
    _, data, _, project = queries.need_subject(ctx.tx, territory_pk=ctx.model.territory_pk, need_id=ctx.ask.subject_id)
    need = Need.model_validate(data)
    return NeedSubject(need, need.full_text(), project)


def _exposure_on(ctx: Context) -> bool:
    return ctx.ask.fair and ctx.weights.exposure.member_cap > 0


def _available_members(ctx: Context, subject: NeedSubject) -> list[Probe]:
    """Members who may be suggested, less those contacted as often as the policy allows."""
    allowed = ctx.model.available_members(ctx.tx)
    policy = ctx.weights.exposure
    if _exposure_on(ctx):
        cols = ctx.model.member_columns(ctx.tx)
        since = (ctx.ask.now or ctx.clock.now()) - dt.timedelta(days=policy.window_days)
        subject.contacts = ctx.model.contact_counts(ctx.tx, since, cached=ctx.ask.now is None)
        capped = [cols.pk_of[m] for m, n in subject.contacts.items() if n >= policy.member_cap and m in cols.pk_of]
        if capped:
            allowed = allowed.copy()
            allowed[capped] = False
    return [Probe(subject.text, allowed)]


def _holder(ctx: Context, subject: NeedSubject) -> int | None:
    """The holder does not answer their own call for skills."""
    holder = subject.project.get("holder")
    return ctx.model.member_columns(ctx.tx).pk_of.get(holder) if holder else None


def _member_components(ctx: Context, subject: NeedSubject, probe: Probe, pool: Pool) -> dict[str, np.ndarray]:
    cols = ctx.model.member_columns(ctx.tx)
    rows = cols.rows(pool.ids)
    comps = pool.components
    comps["availability"] = cols.availability(rows, subject.need.hours_per_week)
    comps["place"] = cols.place_score(rows, subject.need.remote, subject.commune)
    comps["load"] = cols.load(rows)
    comps["causes"], has_causes = cols.causes_share(rows, subject.causes)
    if _exposure_on(ctx):
        counts = np.zeros(len(cols.ext_ids), dtype=np.int64)
        for member_id, n in subject.contacts.items():
            if member_id in cols.pk_of:
                counts[cols.row[cols.pk_of[member_id]]] = n
        comps["exposure"] = 1.0 - counts[rows] / ctx.weights.exposure.member_cap
    present = {"causes": has_causes}
    if _reciprocal_on(ctx, "member_for_need"):
        members = ctx.model.members(ctx.tx, pool.ids.tolist())
        side = _Answers(ctx)
        vector = side.need_vector(subject.need.id)
        values = [
            reciprocal.wants(
                m, subject.need, subject.project, scoring.member_distance_km(m, subject.commune), side.history(m.id, vector)
            )
            for m in (members[int(pk)] for pk in pool.ids)
        ]
        subject.wants = {m.id: w for m, w in zip((members[int(pk)] for pk in pool.ids), values, strict=True)}
        comps["wants"] = np.array([w.value or 0.0 for w in values])
        present["wants"] = np.array([w.value is not None for w in values])
    return present


def _reciprocal_on(ctx: Context, question: str) -> bool:
    """The member's side is computed only when its weight is above 0 (``matching.reciprocal``)."""
    return ctx.weights.for_question(question).get("wants", 0.0) > 0  # type: ignore[arg-type]


class _Answers:
    """The members' past answers to ``member_for_need`` suggestions, and the open calls' vectors:
    read once per question (``matching.reciprocal.history_part``)."""

    def __init__(self, ctx: Context) -> None:
        states = events.suggestions(ctx.tx, territory_pk=ctx.model.territory_pk, question="member_for_need")
        self.answers = reciprocal.answered(states)
        open_pks = np.flatnonzero(ctx.model.open_needs(ctx.tx)).tolist()
        self.pk_of = {need.id: pk for pk, (need, _, _) in ctx.model.needs(ctx.tx, open_pks).items()} if self.answers else {}
        self.indexes = ctx.indexes

    def vectors(self, need_ids: list[str]) -> np.ndarray:
        pks = [self.pk_of[n] for n in need_ids if n in self.pk_of]
        with self.indexes.reading():
            return self.indexes.dense("need").vectors(pks)

    def need_vector(self, need_id: str) -> np.ndarray | None:
        if not self.answers or need_id not in self.pk_of:
            return None
        return self.vectors([need_id])[0]

    def history(self, member_id: str, vector: np.ndarray | None) -> float | None:
        if vector is None or member_id not in self.answers:
            return None
        yes, no = self.answers[member_id]
        return reciprocal.history_part(vector, self.vectors(yes), self.vectors(no))


def _diversity(ctx: Context) -> float:
    lam = ctx.weights.exposure.diversity if ctx.ask.diversity is None else ctx.ask.diversity
    if not 0 <= lam < 1:
        raise InvalidRequest("diversity doit être dans [0, 1[")
    return lam


def _member_shortlist(ctx: Context) -> int:
    return 3 * ctx.ask.k if _diversity(ctx) > 0 else ctx.ask.k


def _diversify(ctx: Context, hits: list[Hit]) -> list[Hit]:
    """Maximal marginal relevance: each pick trades score against resemblance to those picked."""
    lam, k = _diversity(ctx), ctx.ask.k
    if lam <= 0:
        return hits[:k]
    with ctx.indexes.reading():
        vectors = dict(zip((h.pk for h in hits), ctx.indexes.dense("member").vectors([h.pk for h in hits]), strict=True))
    pool, picked = list(hits), []
    while pool and len(picked) < k:

        def gain(h: Hit) -> float:
            if not picked:
                return h.score
            return (1 - lam) * h.score - lam * max(float(vectors[h.pk] @ vectors[p.pk]) for p in picked)

        best = max(pool, key=lambda h: (gain(h), h.score))
        pool.remove(best)
        picked.append(best)
    return picked


def _member_matches(ctx: Context, subject: NeedSubject, hits: list[Hit]) -> list[Match]:
    members = ctx.model.members(ctx.tx, [h.pk for h in hits])
    window = ctx.weights.exposure.window_days
    out = []
    for h in hits:  # reasons only for what is returned: they cost more than the score
        member, breakdown = members[h.pk], h.breakdown
        reasons = scoring.member_reasons(member, subject.need, subject.text, subject.commune, breakdown, subject.causes)
        close = explain.semantic_reason(ctx.indexes, subject.text, member.text(), breakdown.get("semantic"))
        reasons[:0] = [close] if close else []
        side = subject.wants.get(member.id)
        told = reciprocal.reason(side) if side is not None else None
        reasons += [told] if told else []
        if subject.contacts.get(member.id):
            reasons.append(f"déjà sollicité·e {subject.contacts[member.id]} fois ces {window} derniers jours")
        out.append(
            Match(id=member.id, kind="member", label=member.display_name, score=h.score, breakdown=breakdown, reasons=reasons)
        )
    return out


MEMBER_FOR_NEED = QuestionSpec(
    name="member_for_need",
    kind="member",
    subject=_need_subject,
    probes=_available_members,
    exclude=_holder,
    components=_member_components,
    tie_break=_member_rank,
    shortlist=_member_shortlist,
    pick=_diversify,
    matches=_member_matches,
)


# -- which calls for skills fit this member? -----------------------------------------------------------------


def _member_subject(ctx: Context) -> Member:
    return Member.model_validate(
        queries.member_document(ctx.tx, territory_pk=ctx.model.territory_pk, member_id=ctx.ask.subject_id)
    )


def _open_needs(ctx: Context, member: Member) -> list[Probe]:
    return [Probe(member.text(), ctx.model.open_needs(ctx.tx))]


def _need_components(ctx: Context, member: Member, probe: Probe, pool: Pool) -> dict[str, np.ndarray]:
    cols = ctx.model.need_columns(ctx.tx)
    rows = cols.rows(pool.ids)
    comps = pool.components
    comps["availability"] = cols.availability(rows, member.hours_per_week)
    comps["place"] = cols.place_score(rows, member)
    comps["causes"], has_causes = cols.causes_share(rows, member.causes)
    present = {"causes": has_causes}
    if _reciprocal_on(ctx, "need_for_member"):
        needs = ctx.model.needs(ctx.tx, pool.ids.tolist())
        side = _Answers(ctx)
        values = []
        for pk in pool.ids.tolist():
            need, _, pdata = needs[pk]
            vector = side.need_vector(need.id)
            distance = scoring.member_distance_km(member, pdata.get("commune"))
            values.append(reciprocal.wants(member, need, pdata, distance, side.history(member.id, vector)))
        comps["wants"] = np.array([w.value or 0.0 for w in values])
        present["wants"] = np.array([w.value is not None for w in values])
        probe.about = dict(zip(pool.ids.tolist(), values, strict=True))
    return present


def _need_matches(ctx: Context, member: Member, hits: list[Hit]) -> list[Match]:
    needs = ctx.model.needs(ctx.tx, [h.pk for h in hits])
    out = []
    for h in hits:
        (need, project_id, pdata), breakdown = needs[h.pk], h.breakdown
        reasons = scoring.need_reasons(member, need, pdata["title"], breakdown)
        close = explain.semantic_reason(ctx.indexes, member.text(), need.full_text(), breakdown.get("semantic"))
        reasons[1:1] = [close] if close else []
        side = (h.scored.probe.about or {}).get(h.pk)
        told = reciprocal.reason(side) if side is not None else None
        reasons += [told] if told else []
        out.append(
            Match(
                id=need.id,
                kind="need",
                label=f"{need.title} ({pdata['title']})",
                score=h.score,
                breakdown=breakdown,
                reasons=reasons,
                parent_id=project_id,
            )
        )
    return out


NEED_FOR_MEMBER = QuestionSpec(
    name="need_for_member",
    kind="need",
    subject=_member_subject,
    probes=_open_needs,
    components=_need_components,
    tie_break=_need_rank,
    matches=_need_matches,
)


# -- which partner offerings fit this project, now and next? -----------------------------------------------------


def _project_subject(ctx: Context) -> Project:
    data = queries.project_document(ctx.tx, territory_pk=ctx.model.territory_pk, project_id=ctx.ask.subject_id)
    return Project.model_validate(data | {"needs": []})


def _offering_probe(ctx: Context, project: Project, stages: set[Stage], *, later: bool) -> Probe:
    """The eligible offerings serving ``stages``, within capacity, and the sentences that ask for them.

    A holder states the need in one sentence among others ("la banque nous demande une
    caution"): the query is the description's sentences that ask for something now (about a
    later stage for ``later``), else its title and sentences. For a catalogue larger than
    the retrieval pool, a hybrid pre-selection on the whole text comes first.
    """
    catalogue = ctx.model.catalogue(ctx.tx)
    allowed = filters.eligible_offerings(((pk, off) for pk, (off, _, _) in catalogue.offerings.items()), project, stages)
    if ctx.weights.exposure.partner_caps:
        allowed -= full_offerings(ctx.tx, ctx.model, exclude_project=project.id)
    parts = textlib.sentences(project.description)
    if later:  # the next stage: sentences about later needs if the holder wrote some
        queries_ = [s for s in parts if textlib.is_about_later(s)] or [project.title, *parts]
    else:
        now = [s for s in parts if not textlib.is_about_later(s)] or parts
        queries_ = [s for s in now if textlib.is_request(s)] or [project.title, *now]
    text = " ".join(queries_)
    params = ctx.weights.retrieval
    if len(allowed) > params.pool:  # large catalogues: hybrid pre-selection first
        weights = ctx.weights.for_question("offering_for_project")
        pool = retrieval.hybrid(
            ctx.indexes,
            "offering",
            project.text(),
            allowed,
            lexical_text=text,
            pool=params.pool,
            weights=weights,
            feedback_top=params.feedback_top,
            adapt=False,
        )
        allowed = set(pool.ids.tolist())
    return Probe(text, allowed, queries=queries_)


def _now_stage(project: Project) -> Stage:
    return project.stage


def _offering_components(stage_of: Callable[[Project], Stage | None]) -> Callable[..., dict[str, np.ndarray]]:
    def components(ctx: Context, project: Project, probe: Probe, pool: Pool) -> dict[str, np.ndarray]:
        pool.components["stage"] = ctx.model.catalogue(ctx.tx).stage_fit(pool.ids, stage_of(project) or project.stage)
        return _examples_component(ctx, "offering_for_project", probe.queries or [probe.text], pool)

    return components


def _example_queries(text: str) -> list[str]:
    """What a free text is compared with an offering's examples by: the whole text and, when it
    has several, each of its sentences (an example is one request; a description holds several)."""
    parts = textlib.sentences(text)
    return [text, *parts] if len(parts) > 1 else [text]


def best_examples(ctx: Context, queries_: list[str], pks: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Each offering's best example against the query sentences: cosine, presence, text."""
    catalogue = ctx.model.catalogue(ctx.tx)
    return catalogue.best_examples(ctx.indexes.query_vectors(queries_), pks, ctx.indexes.passage_vectors)


def _examples_component(ctx: Context, weights_key: str, queries_: list[str], pool: Pool) -> dict[str, np.ndarray]:
    """The ``examples`` component of offerings: the best cosine between a query sentence and one
    of the requests the offering answers (the partner's examples, the projects it was accepted
    for), clipped to [0, 1]. An offering without examples is scored without it."""
    if not len(pool) or ctx.weights.for_question(weights_key).get("examples", 0) <= 0:  # type: ignore[arg-type]
        return {}
    best, present, _ = best_examples(ctx, queries_, pool.ids)
    pool.components["examples"] = fusion.semantic(best)
    return {"examples": present}


def _offering_matches(next_stage: bool) -> Callable[[Context, Project, list[Hit]], list[Match]]:
    def matches(ctx: Context, project: Project, hits: list[Hit]) -> list[Match]:
        catalogue, out = ctx.model.catalogue(ctx.tx), []
        examples = _closest_examples(ctx, hits)
        for h in hits:
            offering, partner_id, partner_name = catalogue.offerings[h.pk]
            breakdown = h.breakdown
            reasons = scoring.offering_reasons(offering, partner_name, project, breakdown)
            if next_stage:
                reasons[1:2] = [f"étape suivante : {project.stage.next().label}"]  # type: ignore[union-attr]
            close = _offering_closeness(ctx, h, examples.get(h.pk), project.text(), offering.full_text())
            reasons[2:2] = [close] if close else []
            out.append(
                Match(
                    id=offering.id,
                    kind="offering",
                    label=f"{partner_name} — {offering.title}",
                    score=h.score,
                    breakdown=breakdown,
                    reasons=reasons,
                    parent_id=partner_id,
                )
            )
        return out

    return matches


def _closest_examples(ctx: Context, hits: list[Hit]) -> dict[int, str | None]:
    """Each returned offering's example closest to its probe's query sentences (one product per
    probe for all the offerings returned, not one per offering)."""
    out: dict[int, str | None] = {}
    by_probe: dict[int, list[Hit]] = {}
    for h in hits:
        if "examples" in h.breakdown:
            by_probe.setdefault(id(h.scored.probe), []).append(h)
    for group in by_probe.values():
        probe = group[0].scored.probe
        _, _, which = best_examples(ctx, probe.queries or _example_queries(probe.text), np.array([h.pk for h in group]))
        out.update(zip((h.pk for h in group), which, strict=True))
    return out


def _offering_closeness(ctx: Context, hit: Hit, example: str | None, request: str, offering_text: str) -> str | None:
    """The partner's typical request closest to the asker's (``example``, from
    ``_closest_examples``), else the offering's sentence closest to theirs; nothing below the
    thresholds of ``matching.explain``."""
    breakdown = hit.breakdown
    reason = explain.example_reason(example, breakdown.get("examples"))
    return reason or explain.semantic_reason(ctx.indexes, request, offering_text, breakdown.get("semantic"))


def _offerings_now(ctx: Context, project: Project) -> list[Probe]:
    nxt = project.stage.next()
    return [_offering_probe(ctx, project, {project.stage} | ({nxt} if nxt else set()), later=False)]


def _offerings_next(ctx: Context, project: Project) -> list[Probe]:
    nxt = project.stage.next()
    return [_offering_probe(ctx, project, {nxt}, later=True)] if nxt else []


OFFERING_FOR_PROJECT = QuestionSpec(
    name="offering_for_project",
    kind="offering",
    subject=_project_subject,
    probes=_offerings_now,
    channel="sentences",
    adapt=False,
    components=_offering_components(_now_stage),
    tie_break=_offering_rank,
    matches=_offering_matches(next_stage=False),
)

# routing's second half: the offerings of the project's next stage, judged for that stage
OFFERING_FOR_NEXT_STAGE = QuestionSpec(
    name="offering_for_project",
    kind="offering",
    subject=_project_subject,
    probes=_offerings_next,
    channel="sentences",
    adapt=False,
    components=_offering_components(lambda p: p.stage.next()),
    tie_break=_offering_rank,
    matches=_offering_matches(next_stage=True),
)


# -- which projects should this partner look at? -------------------------------------------------------------------


def _partner_subject(ctx: Context) -> list[tuple[int, Offering]]:
    offerings = ctx.model.catalogue(ctx.tx).of_partner(ctx.ask.subject_id)
    if not offerings and ctx.ask.subject_id not in queries.ids_in(
        ctx.tx, kind="partner", territory_pk=ctx.model.territory_pk, ext_ids=[ctx.ask.subject_id]
    ):
        raise NotFound("partenaire", ctx.ask.subject_id)
    return offerings


def _per_offering(ctx: Context, offerings: list[tuple[int, Offering]]) -> list[Probe]:
    """One search per offering of the partner: its text among the projects eligible for it."""
    probes = []
    for pk, off in offerings:
        allowed = ctx.model.eligible_projects(ctx.tx, pk, off)
        if len(allowed):
            probes.append(Probe(off.full_text(), allowed, about=off))
    return probes


def _project_components(ctx: Context, offerings: Any, probe: Probe, pool: Pool) -> dict[str, np.ndarray]:
    stages = ctx.model.project_columns(ctx.tx).stage[pool.ids]
    pool.components["stage"] = ProjectColumns.stage_fit(probe.about)[stages]
    return {}


def _project_matches(ctx: Context, offerings: Any, hits: list[Hit]) -> list[Match]:
    projects = ctx.model.projects(ctx.tx, [h.pk for h in hits])
    out = []
    for h in hits:
        project, breakdown = projects[h.pk], h.breakdown
        out.append(
            Match(
                id=project.id,
                kind="project",
                label=project.title,
                score=h.score,
                breakdown=breakdown,
                reasons=scoring.project_reasons(project, h.scored.probe.about, breakdown),
            )
        )
    return out


PROJECT_FOR_PARTNER = QuestionSpec(
    name="project_for_partner",
    kind="project",
    subject=_partner_subject,
    probes=_per_offering,
    adapt=False,  # the query is the offering's own document vector
    components=_project_components,
    tie_break=_project_rank,
    matches=_project_matches,
)


# -- free text --------------------------------------------------------------------------------------------------------


def _text_subject(ctx: Context) -> str:
    """The text as every stored text is (NFC, invisible characters removed): typed in the API, a
    page or the command line alike; empty after that is an error."""
    try:
        text = normalise_text(ctx.ask.subject_id)
    except ValueError as exc:  # a lone surrogate
        raise InvalidRequest(str(exc)) from None
    if not text:
        raise InvalidRequest("le texte est vide")
    return text


def _text_probe(ctx: Context, text: str) -> list[Probe]:
    kind, stages = TARGET_KINDS[ctx.ask.target or ""], {ctx.ask.stage} if ctx.ask.stage else None
    if kind == "member":
        allowed = ctx.model.available_members(ctx.tx)
    elif kind == "need":
        allowed = ctx.model.open_needs(ctx.tx)
    elif kind == "offering":
        allowed = ctx.model.catalogue(ctx.tx).at(stages)
    else:
        allowed = ctx.model.projects_at(ctx.tx, stages)
    return [Probe(text, allowed)]


def _text_components(ctx: Context, text: str, probe: Probe, pool: Pool) -> dict[str, np.ndarray]:
    """Offerings only: their examples (``_examples_component``); the other targets have none."""
    if TARGET_KINDS[ctx.ask.target or ""] != "offering":
        return {}
    return _examples_component(ctx, FREE_TEXT.name, _example_queries(text), pool)


def _text_rank(ctx: Context, pks: np.ndarray) -> np.ndarray:
    return RANK_OF_KIND[TARGET_KINDS[ctx.ask.target or ""]](ctx, pks)


def _text_matches(ctx: Context, text: str, hits: list[Hit]) -> list[Match]:
    kind = TARGET_KINDS[ctx.ask.target or ""]
    labels = queries.labels(ctx.tx, kind=kind, pks=[h.pk for h in hits])
    examples = _closest_examples(ctx, hits) if kind == "offering" else {}
    out = []
    for h in hits:
        ext_id, label, parent_id, candidate_text = labels[h.pk]
        words = textlib.shared_words(text, candidate_text)
        close = (
            _offering_closeness(ctx, h, examples.get(h.pk), text, candidate_text)
            if kind == "offering"
            else explain.semantic_reason(ctx.indexes, text, candidate_text, h.breakdown.get("semantic"))
        )
        reasons = ([close] if close else []) + (["mots en commun : " + ", ".join(words)] if words else [])
        reasons = reasons or ["rapprochement faible : ni sens proche ni mot en commun"]
        if ctx.ask.stage is not None and kind in ("offering", "project"):
            reasons.append(f"étape : {ctx.ask.stage.label}")
        out.append(
            Match(id=ext_id, kind=kind, label=label, score=h.score, breakdown=h.breakdown, reasons=reasons, parent_id=parent_id)  # type: ignore[arg-type]
        )
    return out


FREE_TEXT = QuestionSpec(
    name="free_text",
    kind=None,
    subject=_text_subject,
    probes=_text_probe,
    components=_text_components,
    tie_break=_text_rank,
    matches=_text_matches,
)
