"""Partners describe the requests they answer (issue 14, item 4): ``Offering.examples``, scored
by the ``examples`` component of the offering questions and of the free-text search, quoted
in the reasons; and what outcomes teach: an ``accepted`` offering adds the project's text as
an example of that offering, bounded, gone with the project or the holder's consent."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from matching.domain import FeedbackEvent, Offering, Partner
from matching.recommender import Recommender

T = "mini"
GUARANTEE = "Notre banquier exige une caution et personne dans la famille ne peut s'engager pour nous."


def _examples(rec: Recommender, offering_id: str) -> list[str]:
    with rec.store.read() as tx:
        catalogue = rec.models.of(tx, T).catalogue(tx)
    return next(catalogue.examples[pk] for pk, (o, _, _) in catalogue.offerings.items() if o.id == offering_id)


def _accept(rec: Recommender, project_id: str, offering_id: str, n: int = 1) -> None:
    """The holder's side contacted the partner, then accepted its offering."""
    evs = [
        FeedbackEvent(
            id=f"{kind}-{project_id}-{offering_id}",
            question="offering_for_project",
            subject_id=project_id,
            candidate_id=offering_id,
            type=kind,
            at=dt.datetime(2026, 11, 1, 12, n, minute, tzinfo=dt.UTC),
        )
        for minute, kind in enumerate(("contacted", "accepted"))
    ]
    assert rec.record_events(T, evs)["recorded"] == 2


def test_examples_are_validated_in_french() -> None:
    base = {"id": "o", "title": "Offre", "stages": ["test"]}
    assert Offering(**base, examples=["  la banque   me demande une caution "]).examples == ["la banque me demande une caution"]
    for bad, message in (
        (["une caution", "Une caution"], "exemples en double"),
        (["   "], "examples"),
        ([f"exemple {n}" for n in range(11)], "10"),
        (["x" * 201], "200"),
    ):
        with pytest.raises(ValidationError) as err:
            Offering(**base, examples=bad)
        assert message in str(err.value), str(err.value)


def test_an_offering_is_scored_against_its_examples_and_the_reason_quotes_the_closest(rec: Recommender) -> None:
    before = {m.id: m for m in rec.search_text(T, GUARANTEE, "offerings", k=4)}
    # no offering has examples yet: the component is there for every offering, at 0, and not counted
    assert all(m.breakdown["examples"] == 0.0 for m in before.values())
    partner = rec.get_partner(T, "cowork")
    office = partner.offerings[0].model_copy(
        update={"examples": ["la banque me demande une caution", "personne ne peut se porter garant pour nous"]}
    )
    rec.upsert_partners(T, [partner.model_copy(update={"offerings": [office]})])
    after = {m.id: m for m in rec.search_text(T, GUARANTEE, "offerings", k=4)}
    assert after["cowork-bureaux"].breakdown["examples"] > 0.3
    assert after["cowork-bureaux"].score > before["cowork-bureaux"].score
    assert "demande type de l'offre : « la banque me demande une caution »" in after["cowork-bureaux"].reasons
    # the same for the offerings of a project (p1 is at the financing stage: the coworking offer
    # serves later stages, so it is judged with the project's next stage)
    assert {frozenset(m.breakdown) for m in rec.offering_for_project(T, "p1", k=10)} == {
        frozenset({"semantic", "lexical", "stage", "examples"})
    }


def test_an_accepted_offering_learns_the_project_text_until_the_project_or_consent_goes(rec: Recommender, monkeypatch) -> None:
    text = rec.get_project(T, "p1").text()
    assert text not in _examples(rec, "banque-garantie")
    _accept(rec, "p1", "banque-garantie")
    assert _examples(rec, "banque-garantie") == [text]
    # the holder (member m7) withdraws consent: the example goes
    holder = rec.get_member(T, "m7")
    rec.upsert_members(T, [holder.model_copy(update={"consent": False})])
    assert _examples(rec, "banque-garantie") == []
    rec.upsert_members(T, [holder])
    assert _examples(rec, "banque-garantie") == [text]
    # bounded per offering: the newest first
    monkeypatch.setattr("matching.readmodel.LEARNED_EXAMPLES_PER_OFFERING", 1)
    _accept(rec, "p3", "banque-garantie", n=2)
    assert _examples(rec, "banque-garantie") == [rec.get_project(T, "p3").text()]
    # a deleted project is no example any more
    rec.delete_project(T, "p3")
    assert _examples(rec, "banque-garantie") == [text]


def test_partner_examples_over_the_api(client) -> None:
    partner = client.get(f"/territories/{T}/partners/labo").json()
    partner["offerings"][0]["examples"] = ["nous voulons tester notre idée avec de vrais usagers"]
    assert client.put(f"/territories/{T}/partners/labo", json=partner).status_code == 200
    assert client.get(f"/territories/{T}/partners/labo").json()["offerings"][0]["examples"] == partner["offerings"][0]["examples"]
    partner["offerings"][0]["examples"] = ["un", "UN"]
    r = client.put(f"/territories/{T}/partners/labo", json=partner)
    assert r.status_code == 422 and "exemples en double" in r.text
    assert Partner.model_validate(client.get(f"/territories/{T}/partners/labo").json()).offerings[0].examples == [
        "nous voulons tester notre idée avec de vrais usagers"
    ]
