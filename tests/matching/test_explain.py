"""Reasons a person trusts (issue 14, item 5): no filler, time or first-person words among the
shared words; no semantic reason under the calibrated threshold; a semantic reason quotes the
candidate's sentence that matched best against the request's."""

from __future__ import annotations

import re

from matching import explain
from matching import text as textlib
from matching.recommender import Recommender

T = "mini"
QUOTE = re.compile(r"^sens proche : « (.+) » ↔ « (.+) »$")


def test_shared_words_leave_out_filler_time_and_first_person() -> None:
    request = "J'aimerais rencontrer quelqu'un cette semaine : le banquier hésite à se porter garant pour l'épicerie."
    candidate = "Nous aimerions rencontrer, une semaine sur deux, quelqu'un qui hésite à porter un projet ; garant de l'épicerie."
    assert textlib.shared_words(request, candidate) == ["garant", "épicerie"]
    assert not {"aimerais", "rencontrer", "semaine", "hésite", "porte", "nous"} & set(
        textlib.shared_words(request, candidate, limit=10)
    )


def test_the_thresholds_come_from_the_data_file() -> None:
    policy = explain.policy()
    assert all(0 < policy[k] < 1 for k in ("semantic_min", "sentence_min", "example_min"))
    assert explain.is_close(policy["semantic_min"]) and not explain.is_close(policy["semantic_min"] - 0.01)
    assert explain.example_reason("une caution", policy["example_min"] - 0.01) is None
    assert explain.example_reason("une caution", policy["example_min"]) == "demande type de l'offre : « une caution »"
    assert explain.quote("Un texte. ") == "Un texte"
    assert len(explain.quote("mot " * 100)) <= policy["quote_max_chars"]


def test_a_semantic_match_quotes_the_two_closest_sentences(rec: Recommender) -> None:
    need = "Notre association organise une fête de quartier en juin. Il faudrait quelqu'un pour tenir la trésorerie."
    member = "J'ai tenu les comptes d'une PME pendant vingt ans. J'aime aussi jardiner le dimanche."
    offered, asked, cosine = explain.best_sentence_pair(rec.indexes, need, member)
    assert cosine >= explain.policy()["sentence_min"]
    assert offered == "J'ai tenu les comptes d'une PME pendant vingt ans."
    assert asked == "Il faudrait quelqu'un pour tenir la trésorerie."
    assert explain.semantic_reason(rec.indexes, need, member, 0.05) is None
    reason = explain.semantic_reason(rec.indexes, need, member, 0.6)
    assert (
        reason
        == "sens proche : « J'ai tenu les comptes d'une PME pendant vingt ans » ↔ « Il faudrait quelqu'un pour tenir la trésorerie »"
    )


def test_answers_give_a_semantic_reason_only_above_the_threshold(rec: Recommender) -> None:
    cut = explain.policy()["semantic_min"]
    seen = {"close": 0, "far": 0}
    for need in ("p1-n1", "p2-n1", "p3-n1"):
        for m in rec.member_for_need(T, need, k=8):
            quoted = [r for r in m.reasons if r.startswith("sens proche")]
            if m.breakdown["semantic"] >= cut:
                seen["close"] += 1
                assert len(quoted) <= 1, m.reasons  # none when no pair of sentences is close enough
                if quoted:
                    offered, _ = QUOTE.match(quoted[0]).groups()
                    assert offered.rstrip("…").split()[0] in rec.get_member(T, m.id).text()
            else:
                seen["far"] += 1
                assert quoted == [], (m.id, m.breakdown, m.reasons)
    assert seen["close"] and seen["far"], seen
    # free text: an unrelated text is said to be a weak match, not "close in meaning"
    weak = rec.search_text(T, "Xylophone quantique et astrophysique des volcans martiens.", "members", k=3)
    assert all(not any(r.startswith("sens proche") for r in m.reasons) for m in weak if m.breakdown["semantic"] < cut)
    assert any(m.reasons == ["rapprochement faible : ni sens proche ni mot en commun"] for m in weak)


def test_one_question_lists_the_same_components_for_every_candidate(rec: Recommender) -> None:
    for need in ("p1-n1", "p2-n1", "p3-n1"):
        assert len({frozenset(m.breakdown) for m in rec.member_for_need(T, need, k=8)}) == 1
    assert len({frozenset(m.breakdown) for p in ("p1", "p2", "p3") for m in rec.offering_for_project(T, p, k=8)}) == 1
