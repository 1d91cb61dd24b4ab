"""ROME 4.0 macro-competence codes: the table, suggestions from a text (nearest labels, label vectors
cached), codes checked on calls for skills and members."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matching import rome
from matching.domain import Member, Need


class Counting:
    """The real encoder, counting the texts it is asked to encode."""

    def __init__(self, encoder) -> None:
        self.encoder, self.model_id, self.dim, self.texts = encoder, encoder.model_id, encoder.dim, 0

    def encode(self, texts, *, kind="document", **kwargs):
        self.texts += len(texts)
        return self.encoder.encode(texts, kind=kind)


def test_the_table_is_rome_4_macro_competences() -> None:
    table = rome.table()
    assert len(table) == 506 and all(len(code) == 6 and code.isdigit() for code in table)
    assert rome.label("300412") == "Etre à l'écoute, faire preuve d'empathie"
    assert rome.unknown(["300412", "999999"]) == ["999999"]


def test_suggestions_are_the_nearest_labels_and_labels_are_encoded_once(use_encoder) -> None:
    encoder = Counting(use_encoder)
    found = rome.suggest(encoder, "tenir la comptabilité de l'association et préparer le budget", k=5)
    assert len(found) == 5 and found == sorted(found, key=lambda s: -s.score)
    assert any(word in s.label.lower() for s in found for word in ("compta", "budget", "financ"))
    assert encoder.texts == 506 + 1
    rome.suggest(encoder, "accueillir le public", k=3)
    assert encoder.texts == 506 + 2  # the labels' matrix is kept: only the query is encoded
    assert rome.suggest(encoder, "   ") == []


def test_codes_are_checked_on_calls_and_members() -> None:
    assert Need(id="n1", title="Trésorerie", rome_skills=["300412"]).rome_skills == ["300412"]
    with pytest.raises(ValidationError, match=r"code ROME 4\.0 inconnu : 123456"):
        Need(id="n1", title="Trésorerie", rome_skills=["123456"])
    with pytest.raises(ValidationError, match="en double"):
        Member(id="m1", display_name="A. B.", skills="x", rome_skills=["300412", "300412"])
    with pytest.raises(ValidationError):
        Member(id="m1", display_name="A. B.", skills="x", rome_skills=["30041"])
