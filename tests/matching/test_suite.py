"""The benchmark suite (``maillage eval --suite``) on a tiny suite of every shape, real encoders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matching.cli import app
from matching.settings import Settings
from matching.suite import BASELINES, DEFAULT_SUITE, SuiteError, read_suite, run_suite
from tests.conftest import MINI

MEMBERS = [
    {"id": "a", "text": "Comptable à la retraite, j'ai tenu les comptes d'une association sportive."},
    {"id": "b", "text": "Je cultive un potager en permaculture et je fais mon compost."},
    {"id": "c", "text": "Développeuse web : sites internet, WordPress, un peu de Python."},
    {"id": "d", "text": "Menuisier, je répare les meubles et les vélos du quartier."},
]
CALLS = [
    {"id": "q1", "text": "Qui pourrait tenir la trésorerie de notre épicerie solidaire ?", "relevant": ["a"]},
    {"id": "q2", "text": "Notre jardin partagé cherche des conseils pour les plantations.", "relevant": ["b"]},
    {"id": "q3", "text": "Un site pour annoncer les horaires de l'atelier vélo.", "relevant": ["c", "d"]},
]
ROUTING = [
    {
        "id": "r1",
        "text": "La banque nous demande une caution pour le prêt.",
        "stage": "financement",
        "expected": "banque-garantie",
    },
    {"id": "r2", "text": "Nous cherchons un bureau pour trois personnes.", "stage": "lancement", "expected": "cowork-bureaux"},
    {"id": "r3", "text": "Nous voulons essayer l'activité avec de vrais usagers.", "stage": "test", "expected": "labo-test"},
]
TRUTH = {
    "need_members": {"p1-n1": ["m1", "m8"], "p2-n1": ["m3"], "p3-n1": ["m2"]},
    "project_stage": {"p1": "financement", "p2": "test", "p3": "lancement"},
    "project_offerings": {
        "p1": {"current": "banque-garantie", "next": "cowork-bureaux"},
        "p2": {"current": "labo-test", "next": None},
        "p3": {"current": "cowork-bureaux", "next": None},
    },
}


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def tiny_suite(tmp_path: Path) -> Path:
    data = tmp_path / "bench"
    data.mkdir()
    _jsonl(data / "members.jsonl", MEMBERS)
    _jsonl(data / "calls.jsonl", CALLS)
    _jsonl(data / "routing.jsonl", ROUTING)
    (data / "truth.json").write_text(json.dumps(TRUTH), encoding="utf-8")
    (data / "mini.json").write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    suite = {
        "version": 1,
        "k": 10,
        "depth": 20,
        "benchmarks": [
            {"name": "tiny-retrieval", "type": "retrieval", "corpus": "bench/members.jsonl", "queries": "bench/calls.jsonl"},
            {"name": "tiny-calls", "type": "calls_members", "members": "bench/members.jsonl", "calls": "bench/calls.jsonl"},
            {
                "name": "tiny-routing",
                "type": "routing",
                "routing": "bench/routing.jsonl",
                "catalogue": "bench/mini.json",
                "hard": ["r1"],
            },
            {"name": "tiny-demo", "type": "demo_truth", "territory": "bench/mini.json", "truth": "bench/truth.json"},
        ],
    }
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(suite, indent=2), encoding="utf-8")
    return path


def _in_unit_interval(figures: dict) -> None:
    for name, value in figures.items():
        if name in ("ndcg@10", "mrr", "recall@10", "top1"):
            assert 0.0 <= value <= 1.0, (name, value)


def test_tiny_suite_json_shape_and_metrics(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    result = run_suite(tiny_suite(tmp_path), settings=settings)
    json.dumps(result)  # JSON-able as printed
    entries = result["benchmarks"]
    assert list(entries) == ["tiny-retrieval", "tiny-calls", "tiny-routing", "tiny-demo:members", "tiny-demo:routing"]
    for name, entry in entries.items():
        assert set(entry["baselines"]) == set(BASELINES), name
        _in_unit_interval(entry["product"])
        for figures in entry["baselines"].values():
            _in_unit_interval(figures)
        assert entry["best_baseline"] in BASELINES
        assert isinstance(entry["product_beats_baselines"], bool)
    assert entries["tiny-retrieval"]["product"]["n"] == 3 and entries["tiny-retrieval"]["primary"] == "ndcg@10"
    assert entries["tiny-calls"]["product_question"]["how"] == "member_for_need"
    routing = entries["tiny-routing"]
    assert routing["primary"] == "top1" and routing["product"]["n"] == 3 and routing["product"]["hard_n"] == 1
    assert routing["product_question"]["how"].startswith("route_project")
    assert routing["baselines"]["use"]["hits"] == round(routing["baselines"]["use"]["top1"] * 3)
    assert entries["tiny-demo:members"]["product"]["n"] == 3 and entries["tiny-demo:routing"]["product"]["n"] == 3
    assert set(result["macro"]) == {"product", *BASELINES}
    assert all(0.0 <= v <= 1.0 for v in result["macro"].values())
    assert result["timing_s"]["texts_encoded"]  # a cold cache: something was encoded
    # the vectors are cached (queries too): a second run encodes nothing and gives the same figures
    again = run_suite(tmp_path / "suite.json", settings=settings)
    assert again["timing_s"]["texts_encoded"] == {}
    assert _figures(again["benchmarks"]) == _figures(entries)


def _figures(entries: dict) -> dict:
    return {name: {k: v for k, v in e.items() if k != "timing_s"} for name, e in entries.items()}


def test_packaged_suite_reads() -> None:
    suite = read_suite(DEFAULT_SUITE)
    assert [b.type for b in suite.benchmarks] == ["retrieval", "retrieval", "calls_members", "routing", "demo_truth"]
    assert all(p.is_file() for b in suite.benchmarks for p in b.paths.values())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: b[1].pop("calls"), "ligne 4, champ 'calls' : manquant"),
        (lambda b: b[0].update(type="inconnu"), "ligne 3, champ 'type' : type inconnu 'inconnu'"),
        (lambda b: b[2].update(catalogue="absent.json"), "ligne 5, champ 'catalogue' : fichier introuvable"),
        (lambda b: b[2].update(hard="r1"), "ligne 5, champ 'hard' : list attendu"),
        (lambda b: b[1].update(name="tiny-retrieval"), "ligne 4, champ 'name' : nom en double (déjà ligne 3)"),
        (lambda b: b[0].update(extra=1), "ligne 3, champ 'extra' : champ inconnu"),
    ],
)
def test_malformed_suite_names_file_line_and_field(tmp_path: Path, change, expected: str) -> None:
    path = tiny_suite(tmp_path)
    benchmarks = json.loads(path.read_text(encoding="utf-8"))["benchmarks"][:3]
    change(benchmarks)
    # one benchmark per line: they start on lines 3, 4 and 5
    rows = ",\n".join("    " + json.dumps(b, ensure_ascii=False) for b in benchmarks)
    path.write_text('{\n  "benchmarks": [\n' + rows + "\n  ]\n}\n", encoding="utf-8")
    with pytest.raises(SuiteError) as err:
        read_suite(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_invalid_json_and_bad_data_file(tmp_path: Path) -> None:
    path = tiny_suite(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"k": 10,', '"k": 10,,'), encoding="utf-8")
    with pytest.raises(SuiteError, match=r"ligne 3 : JSON invalide"):
        read_suite(path)
    path.write_text(text, encoding="utf-8")
    _jsonl(
        tmp_path / "bench" / "routing.jsonl", [*ROUTING, {"id": "r4", "text": "x", "stage": "idee", "expected": "cowork-bureaux"}]
    )
    from matching.suite import load_tasks

    with pytest.raises(SuiteError, match=r"champ 'routing' \(tiny-routing\) : routing.jsonl, ligne 4, champ 'expected'"):
        load_tasks(read_suite(path))


def test_cli_malformed_suite_exit_code_2(tmp_path: Path) -> None:
    path = tiny_suite(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('"retrieval"', '"recherche"'), encoding="utf-8")
    env = {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}
    result = CliRunner().invoke(app, ["eval", "--suite", str(path)], env=env)
    assert result.exit_code == 2
    assert "champ 'type' : type inconnu 'recherche'" in result.output and "ligne" in result.output
    result = CliRunner().invoke(app, ["eval", str(path)], env=env)
    assert result.exit_code == 2 and "après --suite" in result.output
