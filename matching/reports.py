"""Readable French summaries (plain text and HTML) for partners and agents."""

from __future__ import annotations

from html import escape
from typing import Any


def digest_text(digest: dict[str, Any]) -> str:
    """The weekly digest of a partner as plain French text."""
    lines = [f"{digest['partner']} — projets à regarder, semaine {digest['week']}", ""]
    if digest["offerings_full"]:
        lines.append("Offres complètes (aucun nouveau projet proposé) : " + ", ".join(digest["offerings_full"]))
        lines.append("")
    if not digest["projects"]:
        lines.append("Aucun nouveau projet cette semaine.")
    for i, m in enumerate(digest["projects"], 1):
        lines.append(f"{i}. {m.label} (score {m.score:.2f})")
        lines.extend(f"   - {r}" for r in m.reasons)
    return "\n".join(lines)


def digest_html(digest: dict[str, Any]) -> str:
    """The weekly digest of a partner as a small standalone HTML page."""
    items = (
        "".join(
            f"<li><strong>{escape(m.label)}</strong> <small>(score {m.score:.2f})</small>"
            f"<ul>{''.join(f'<li>{escape(r)}</li>' for r in m.reasons)}</ul></li>"
            for m in digest["projects"]
        )
        or "<li>Aucun nouveau projet cette semaine.</li>"
    )
    full = (
        f"<p>Offres complètes (aucun nouveau projet proposé) : {escape(', '.join(digest['offerings_full']))}</p>"
        if digest["offerings_full"]
        else ""
    )
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(digest['partner'])} — semaine {escape(digest['week'])}</title></head><body>"
        f"<h1>{escape(digest['partner'])}</h1><p>Projets à regarder, semaine {escape(digest['week'])}</p>"
        f"{full}<ol>{items}</ol></body></html>"
    )


# -- what the reports read ------------------------------------------------------------------------------


def outcomes_frame(events: list[Any]) -> Any:
    """One row per closed suggestion of a question's events: its components when shown, and its label.

    The two sides count (``matching.domain``): label 1 when the subject side accepted or
    completed it and the one suggested did not refuse; label 0 when the subject side declined
    or got no answer, or when the one suggested said "not interested" or withdrew ("declined"
    on their side). Suggestions still under way on both sides are left out. The components
    are those of the latest event that carries them (the service's ``shown`` does). Columns:
    subject_id, candidate_id, the components, label.
    """
    import pandas as pd

    from matching.domain import AGREED_SUBJECT, REFUSED_CANDIDATE

    shown: dict[tuple[str, str], dict[str, float]] = {}
    state: dict[tuple[str, str], dict[str, str]] = {}
    for ev in events:
        key = (ev.subject_id, ev.candidate_id)
        if ev.breakdown:
            shown[key] = ev.breakdown
        state.setdefault(key, {})[getattr(ev, "side", "subject")] = ev.type
    records = []
    for key, sides in state.items():
        subject, candidate = sides.get("subject"), sides.get("candidate")
        if key not in shown:
            continue
        if subject in ("declined", "no_answer") or candidate in REFUSED_CANDIDATE:
            label = 0
        elif subject in AGREED_SUBJECT:
            label = 1
        else:
            continue  # under way
        records.append({"subject_id": key[0], "candidate_id": key[1], **shown[key], "label": label})
    return pd.DataFrame.from_records(records, columns=None if records else ["subject_id", "candidate_id", "label"])


def partner_digest(rec: Any, territory_id: str, partner_id: str, k: int = 10) -> dict[str, Any]:
    """The projects a partner should look at this week: stage served, eligible, within the
    capacity of the offering, never followed (no event of the partner's side, or of staff for
    it) and not served to this partner before this week (the digest read again within the week
    shows the same projects)."""
    import datetime as dt

    from matching.questions import full_offerings
    from matching.store import events

    today = rec.clock.today()
    week_start = dt.datetime.combine(today - dt.timedelta(days=today.weekday()), dt.time())
    with rec.store.read() as tx:
        tpk = tx.territory_pk(territory_id)
        partner = tx.get_partner(territory_id, partner_id)
        states = events.suggestions(tx, territory_pk=tpk, question="project_for_partner", subject_id=partner_id)
        model = rec.models.of(tx, territory_id)
        full = full_offerings(tx, model) if rec.weights.exposure.partner_caps else set()
        full_ids = {model.catalogue(tx).offerings[pk][0].id for pk in full}
    already = {
        candidate
        for (_, candidate), st in states.items()
        if st.subject or st.candidate or (st.served_at is not None and st.served_at < week_start)
    }
    ranked = rec.project_for_partner(territory_id, partner_id, k=rec.settings.max_k)
    open_offerings = [o for o in partner.offerings if o.id not in full_ids]
    items = [m for m in ranked if m.id not in already][:k] if open_offerings else []
    year, week, _ = today.isocalendar()
    return {
        "partner_id": partner.id,
        "partner": partner.name,
        "week": f"{year}-W{week:02d}",
        "offerings_open": [o.id for o in open_offerings],
        "offerings_full": sorted(full_ids & {o.id for o in partner.offerings}),
        "projects": items,
    }


def round_candidates(
    rec: Any, territory_id: str, k: int = 20
) -> tuple[dict[str, list[tuple[str, float]]], dict[str, int], dict[str, int]]:
    """Inputs of a territory-wide matching round: candidates per open need, headcounts, and each
    member's remaining capacity (maximum engagements minus current ones)."""
    from matching.store import queries

    with rec.store.read() as tx:
        model = rec.models.of(tx, territory_id)
        open_needs = model.needs(tx, sorted(int(pk) for pk in model.open_needs(tx).nonzero()[0]))
        capacity = {
            ext: max(0, data.get("max_engagements", 0) - data.get("active_engagements", 0)) if available else 0
            for ext, data, available in queries.members_overview(tx, territory_pk=model.territory_pk)
        }
    candidates, headcount = {}, {}
    for need, _, _ in open_needs.values():
        candidates[need.id] = [(m.id, m.score) for m in rec.member_for_need(territory_id, need.id, k=k)]
        headcount[need.id] = need.headcount
    return candidates, headcount, capacity
