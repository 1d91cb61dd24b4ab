"""Each structured component is named, lies in [0, 1] and behaves as documented."""

from __future__ import annotations

import pytest

from matching import scoring
from matching.domain import Member, Need, Offering, Project, Stage
from matching.filters import eligible
from matching.geo import Communes, proximity
from matching.scoring import Weights
from matching.text import is_about_later, lexical_tokens, sentences


def member(**kw) -> Member:
    return Member(**({"id": "m", "display_name": "A.", "skills": "comptable"} | kw))


def test_weights_reject_unknown_components_and_negative_values() -> None:
    with pytest.raises(ValueError, match="inconnues"):
        Weights.model_validate({"free_text": {"semantics": 1}})
    with pytest.raises(ValueError):
        Weights.model_validate({"free_text": {"semantic": -1}})
    assert Weights.load(Weights().model_dump_json() and "data/weights.json").free_text


def test_stage_fit_current_next_other() -> None:
    assert scoring.stage_fit([Stage.FINANCEMENT], Stage.FINANCEMENT) == 1.0
    assert scoring.stage_fit([Stage.LANCEMENT], Stage.FINANCEMENT) == 0.5  # next stage: lower, not zero
    assert scoring.stage_fit([Stage.IDEE], Stage.FINANCEMENT) == 0.0
    assert scoring.stage_fit([Stage.IDEE], Stage.CROISSANCE) == 0.0  # end of the chain


def test_availability() -> None:
    assert scoring.availability(4, 2) == 1.0
    assert scoring.availability(1, 4) == 0.25
    assert scoring.availability(0, 0) == 1.0


def test_place_uses_distance_and_ignores_it_for_remote_needs() -> None:
    sceaux = member(commune="Sceaux", remote_ok=True)
    assert scoring.place(sceaux, need_remote=False, commune="Sceaux") == 1.0
    near = scoring.place(sceaux, need_remote=False, commune="Bourg-la-Reine")
    far = scoring.place(sceaux, need_remote=False, commune="Gennevilliers")
    assert 1.0 > near > far > 0.0
    assert scoring.place(sceaux, need_remote=True, commune="Gennevilliers") == 1.0
    homebody = member(commune="Sceaux", remote_ok=False)
    assert scoring.place(homebody, need_remote=True, commune="Gennevilliers") == far
    assert scoring.place(member(), need_remote=False, commune="Sceaux") == 0.5  # unknown place: neutral
    by_postcode = member(postcode="92330")  # Sceaux's postcode, no commune name
    assert scoring.place(by_postcode, need_remote=False, commune="Sceaux") == 1.0


def test_communes_table() -> None:
    communes = Communes.default()
    assert communes.find("chatenay malabry").insee == "92019"
    assert 1.0 < communes.distance_km("Sceaux", "Antony") < 4.0
    assert communes.distance_km("Sceaux", "Atlantis") is None
    assert proximity(0) == 1.0 and proximity(None) == 0.5


def test_causes_overlap() -> None:
    assert scoring.causes(["Sport pour tous"], ["sport pour tous", "Santé pour tous"]) == 0.5
    assert scoring.causes([], ["Sport pour tous"]) is None
    assert scoring.causes(["Sport pour tous"], []) is None


def test_load_lowers_then_filters() -> None:
    assert scoring.load(member(max_engagements=2, active_engagements=0)) == 1.0
    assert scoring.load(member(max_engagements=2, active_engagements=1)) == 0.5
    assert scoring.load(member(max_engagements=2, active_engagements=2)) == 0.0


def test_eligibility_rules() -> None:
    loan = Offering(id="o", title="Prêt d'honneur", stages=[Stage.FINANCEMENT], eligibility={"requires_legal_structure": True})
    assert not eligible(loan, Project(id="p", title="Collectif", legal_structure=False))
    assert eligible(loan, Project(id="p", title="Association", legal_structure=True))
    local = Offering(id="o", title="Bureaux", stages=[Stage.LANCEMENT], eligibility={"communes": ["Sceaux"]})
    assert eligible(local, Project(id="p", title="x", commune="sceaux"))
    assert not eligible(local, Project(id="p", title="x", commune="Antony"))
    full = Offering(id="o", title="Complet", stages=[Stage.TEST], capacity=0)
    assert not eligible(full, Project(id="p", title="x"))


def test_french_analysis_and_sentences() -> None:
    assert lexical_tokens("trésorerie")[0] == lexical_tokens("Trésoriers")[0]
    assert lexical_tokens("l'épicerie") == lexical_tokens("Épiceries")
    text = "Nous ouvrons au printemps. La banque demande une caution ; plus tard, il faudra une salle."
    parts = sentences(text)
    assert parts == ["Nous ouvrons au printemps.", "La banque demande une caution ;", "plus tard, il faudra une salle."]
    assert [is_about_later(s) for s in parts] == [False, False, True]


def test_member_reasons_are_french_and_name_the_distance() -> None:
    m = member(commune="Antony", remote_ok=False, skills="Trésorier du club de foot", causes=["Sport pour tous"])
    need = Need(id="n", title="Tenir la trésorerie", hours_per_week=2)
    reasons = scoring.member_reasons(m, need, need.full_text(), "Sceaux", {"place": 0.6}, ["Sport pour tous"])
    assert reasons[0] == "compétences proches : trésorier"
    assert any(r.startswith("lieu : habite Antony, à ") and "km du projet (Sceaux)" in r for r in reasons)
    assert "causes partagées : sport pour tous" in reasons
