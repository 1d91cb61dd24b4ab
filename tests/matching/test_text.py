"""French text helpers used by the ranking: sentences that ask for something."""

from __future__ import annotations

import pytest

from matching import text


@pytest.mark.parametrize(
    "sentence",
    [
        "Nous voudrions être accompagnés pour mener un essai grandeur nature.",
        "L'équipe s'agrandit : il nous faudrait des bureaux à Sceaux.",
        "Une formation nous aiderait à éviter les erreurs.",
        "La banque nous demande une caution que nous n'avons pas.",
        "Il nous faut une garantie pour obtenir le prêt.",
        "Nous avons besoin de 3 000 € pour le premier équipement.",
        "Une adresse professionnelle nous manque cruellement.",
    ],
)
def test_requests_are_recognised(sentence) -> None:
    assert text.is_request(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Nous voulons créer à Sceaux des séances sportives gratuites dans les parcs.",
        "Notre association est déclarée en préfecture depuis 2019.",
        "Les frais de location sont partagés entre les membres.",
        "Un portrait des bénévoles est affiché à l'entrée.",
    ],
)
def test_descriptions_are_not_requests(sentence) -> None:
    assert not text.is_request(sentence)
