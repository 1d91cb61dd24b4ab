"""Any French town: the national commune table, found by postcode, INSEE code or name."""

from __future__ import annotations

import pytest

from matching.geo import Communes
from matching.places import Places, place_key

SCEAUX_92 = (48.7771, 2.2902)


@pytest.mark.parametrize(
    ("text", "insee"),
    [
        ("Saint-Étienne", "42218"),
        ("st etienne", "42218"),
        ("SAINT ETIENNE", "42218"),
        ("42100", "42218"),  # one of its postcodes
        ("Sainte-Foy-lès-Lyon", "69202"),
        ("ste foy les lyon", "69202"),
        ("L'Haÿ-les-Roses", "94038"),
        ("Haÿ-les-Roses (L')", "94038"),
        ("lhay les roses", "94038"),
        ("Plessis-Robinson", "92060"),
        ("92071", "92071"),  # an INSEE code that is no postcode
        ("92330", "92071"),  # Sceaux's postcode
        ("Sceaux (92330)", "92071"),
        ("92330 Sceaux", "92071"),
        ("2A004", "2A004"),
        ("Lyon", "69123"),  # a city of arrondissements is found by its name
        ("Paris", "75056"),
        ("69003", "69383"),
    ],
)
def test_a_place_is_found_by_postcode_insee_code_or_name(text, insee) -> None:
    assert Places.default().resolve(text).insee == insee


def test_homonyms_are_told_apart_by_postcode_or_department_else_the_largest() -> None:
    places = Places.default()
    assert len(places.named("Saint-Denis")) > 3
    assert places.resolve("Saint-Denis").insee == "97411"  # La Réunion's, the most populated
    assert places.resolve("Saint-Denis", postcode="93200").insee == "93066"
    assert places.resolve("Saint-Denis", department="93").insee == "93066"
    assert places.resolve("Trifouillis-les-Oies") is None and places.resolve("") is None


def test_keys_drop_accents_articles_and_read_st_as_saint() -> None:
    assert place_key("Le Plessis-Robinson") == place_key("plessis robinson") == "plessisrobinson"
    assert place_key("St-Étienne") == place_key("Saint Etienne")
    assert place_key("Lyon") != place_key("Lyons-la-Forêt")


def test_distances_reach_any_town_and_the_sceaux_table_keeps_its_places() -> None:
    communes = Communes.default()
    assert communes.distance_km("Lyon", "Villeurbanne") == pytest.approx(4.1, abs=1.5)
    assert communes.distance_km("Sceaux", "Lyon") == pytest.approx(390, abs=15)
    assert (communes.find("Sceaux").lat, communes.find("Sceaux").lon) == SCEAUX_92  # communes_92.csv first
    assert communes.distance_km("Sceaux", "Trifouillis") is None
