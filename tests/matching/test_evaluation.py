from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import ndcg_score
from typer.testing import CliRunner

from matching.cli import app
from matching.evaluation import BenchmarkError, ndcg_at_k, read_queries, recall_at_k, reciprocal_rank

ESCO = Path(__file__).resolve().parents[2] / "data" / "bench" / "esco-fr"


def test_metrics_by_hand() -> None:
    assert recall_at_k(["a", "b", "c"], {"c", "z"}, 2) == 0
    assert recall_at_k(["a", "b", "c"], {"c", "z"}, 3) == 0.5
    assert reciprocal_rank(["a", "b", "c"], {"b"}) == 0.5
    assert ndcg_at_k(["x", "y"], set(), 10) == 0


def test_ndcg_agrees_with_scikit_learn() -> None:
    ranked = ["d3", "d1", "d7", "d2", "d9"]
    relevant = {"d1", "d2", "d5"}
    # scikit-learn scores a full list: relevance per document, scores = reverse rank
    docs = [*ranked, "d5"]
    true = [[1 if d in relevant else 0 for d in docs]]
    scores = [[len(docs) - i for i in range(len(docs) - 1)] + [0]]
    assert ndcg_at_k(ranked, relevant, 5) == pytest.approx(ndcg_score(true, scores, k=5))


@pytest.fixture(scope="module")
def esco_slice(tmp_path_factory) -> tuple[Path, Path]:
    """30 dev queries and a corpus of their relevant occupations plus 300 others."""
    queries = [json.loads(line) for line in (ESCO / "queries_dev.jsonl").read_text(encoding="utf-8").splitlines()][:30]
    corpus = [json.loads(line) for line in (ESCO / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    wanted = {r for q in queries for r in q["relevant"]}
    keep = [d for d in corpus if d["id"] in wanted] + [d for d in corpus if d["id"] not in wanted][:300]
    folder = tmp_path_factory.mktemp("esco")
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in keep), encoding="utf-8")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in queries), encoding="utf-8")
    return folder / "corpus.jsonl", folder / "queries.jsonl"


def test_eval_command_prints_one_json_object(esco_slice, tmp_path) -> None:
    corpus, queries = esco_slice
    result = CliRunner().invoke(
        app, ["--data-dir", str(tmp_path), "eval", "--corpus", str(corpus), "--queries", str(queries), "--k", "10"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"recall@10", "ndcg@10", "mrr", "n_queries", "config"} <= set(body)
    assert body["n_queries"] == 30 and body["config"]["encoder"] == "use-multilingual-v3"
    # a real ranking on an easy slice: far better than chance (~10 / 330 documents)
    assert body["ndcg@10"] > 0.3 and 0 < body["recall@10"] <= 1 and 0 < body["mrr"] <= 1


def test_malformed_line_is_a_clear_error(esco_slice, tmp_path) -> None:
    corpus, queries = esco_slice
    bad = tmp_path / "bad.jsonl"
    lines = queries.read_text(encoding="utf-8").splitlines()
    lines[4] = '{"id": "q5", "text": "souder", "relevant": "occ1"}'
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BenchmarkError, match="ligne 5, champ 'relevant'"):
        read_queries(bad)
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "eval", "--corpus", str(corpus), "--queries", str(bad)])
    assert result.exit_code == 2 and "ligne 5" in result.output
    lines[4] = "{not json"
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BenchmarkError, match="ligne 5 : JSON invalide"):
        read_queries(bad)


def test_demo_evaluation_against_hidden_truth(tmp_path) -> None:
    from data.generate_demo import generate
    from matching.evaluation import run_demo_evaluation
    from matching.settings import Settings

    doc, truth = generate(members=80, projects=16, seed=3)
    (tmp_path / "doc.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "truth.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    result = run_demo_evaluation(
        settings=Settings(data_dir=tmp_path / "var"), doc_path=tmp_path / "doc.json", truth_path=tmp_path / "truth.json"
    )
    members, routing = result["member_for_need"], result["routing"]
    assert members["n_queries"] > 0 and 0 < members["ndcg@10"] <= 1
    assert routing["n_projects"] == 16 and sum(s["n"] for s in routing["by_stage"].values()) == 16
    assert routing["top1_current"] > 0.5  # far above chance (1 offering in 2 to 5 per stage)
    assert sum(sum(row.values()) for row in routing["confusion"].values()) == 16


def test_caps_lower_exposure_gini_without_losing_more_than_5_percent_ndcg(tmp_path) -> None:
    from matching.evaluation import gini, simulate_exposure
    from matching.settings import Settings

    assert gini([1, 1, 1, 1]) == 0 and gini([0, 0, 0, 8]) == pytest.approx(0.75)
    settings = Settings(data_dir=tmp_path)
    off = simulate_exposure(requests=200, caps=False, settings=settings)
    on = simulate_exposure(requests=200, caps=True, settings=settings)
    assert on["exposure_gini"] < off["exposure_gini"]
    assert on["coverage"] > off["coverage"]
    assert on["ndcg@5"] >= 0.95 * off["ndcg@5"]
    assert on["max_exposure"] < off["max_exposure"]
