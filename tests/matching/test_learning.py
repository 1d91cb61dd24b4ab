"""Learning component weights from outcomes: sklearn conventions, recovery, safe fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from matching.fusion import reference_weighted_mean
from matching.learning import ComponentRanker, fit_weights, simulate_feedback, weighted_mean_score
from matching.scoring import Weights

COMPONENTS = ["semantic", "place", "availability", "load"]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + np.exp(-z))


def equal_base(question: str = "member_for_need") -> Weights:
    return Weights.model_validate({question: dict.fromkeys(COMPONENTS, 1.0)})


def random_frame(n: int = 600, subjects: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.random((n, len(COMPONENTS))), columns=COMPONENTS)
    frame["subject_id"] = np.repeat([f"need-{i}" for i in range(subjects)], n // subjects)
    return frame


def place_driven_frame(seed: int = 0) -> pd.DataFrame:
    frame = random_frame(seed=seed)
    frame["label"] = simulate_feedback(frame, rule=lambda r: sigmoid(6 * r["place"] + 2 * r["semantic"] - 5), random_state=seed)
    return frame


# -- scikit-learn conventions --------------------------------------------------------


def test_params_round_trip_and_clone() -> None:
    ranker = ComponentRanker(C=0.5, min_samples=10)
    assert ranker.get_params() == {"C": 0.5, "min_samples": 10, "min_per_class": 5, "random_state": 0, "fill_value": 0.5}
    assert ranker.set_params(fill_value=0.0) is ranker and ranker.fill_value == 0.0
    copy = clone(ranker)
    assert copy is not ranker and copy.get_params() == ranker.get_params()


def test_fit_returns_self_and_not_fitted_before() -> None:
    frame = place_driven_frame()
    ranker = ComponentRanker()
    with pytest.raises(NotFittedError):
        ranker.predict(frame[COMPONENTS])
    assert ranker.fit(frame[COMPONENTS], frame["label"]) is ranker
    assert list(ranker.feature_names_in_) == COMPONENTS
    assert clone(ranker).__dict__.get("coef_") is None  # clone drops learned state


def test_too_few_samples_or_classes_raise_clear_errors() -> None:
    frame = place_driven_frame()
    with pytest.raises(ValueError, match="pas assez d'exemples pour apprendre"):
        ComponentRanker().fit(frame[COMPONENTS].head(10), frame["label"].head(10))
    with pytest.raises(ValueError, match="deux classes"):
        ComponentRanker().fit(frame[COMPONENTS], np.ones(len(frame)))
    y = np.zeros(len(frame))
    y[:2] = 1
    with pytest.raises(ValueError, match="par classe"):
        ComponentRanker().fit(frame[COMPONENTS], y)


def test_predictions_shapes_and_missing_components() -> None:
    frame = place_driven_frame()
    ranker = ComponentRanker().fit(frame[COMPONENTS], frame["label"])
    X = frame[COMPONENTS].head(5).copy()
    X.loc[0, "place"] = np.nan
    proba = ranker.predict_proba(X)
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(ranker.predict(X)) <= {0, 1}
    assert np.all(ranker.coef_ >= 0) and sum(ranker.weights_.values()) == pytest.approx(1)
    # score_weights is the service's weighted mean, NaN components skipped.
    row = {c: v for c, v in X.iloc[0].items() if not np.isnan(v)}
    assert ranker.score_weights(X)[0] == pytest.approx(reference_weighted_mean(row, ranker.weights_), abs=1e-6)
    # Extra columns (subject_id, label) are ignored at prediction time.
    assert np.allclose(ranker.decision_function(frame.head(5)), ranker.decision_function(frame[COMPONENTS].head(5)))


def test_weighted_mean_score_skips_missing() -> None:
    frame = pd.DataFrame({"semantic": [1.0, 0.5, np.nan], "place": [0.0, np.nan, np.nan]})
    assert weighted_mean_score(frame, {"semantic": 3, "place": 1}).tolist() == [0.75, 0.5, 0.0]


def test_all_negative_effects_fall_back_to_equal_weights() -> None:
    frame = random_frame()
    frame["label"] = simulate_feedback(frame, rule=lambda r: sigmoid(3 - 6 * r["place"]))
    ranker = ComponentRanker(C=0.01).fit(frame[["place"]], frame["label"])
    assert ranker.degenerate_ and ranker.weights_ == {"place": 1.0}


def test_simulate_feedback_is_seeded_and_follows_the_rule() -> None:
    frame = random_frame()
    a = simulate_feedback(frame, rule=lambda r: r["place"], random_state=3)
    assert a.equals(simulate_feedback(frame, rule=lambda r: r["place"], random_state=3))
    assert a[frame["place"] > 0.8].mean() > 0.7 > 0.3 > a[frame["place"] < 0.2].mean()


# -- key behaviour -------------------------------------------------------------------


def test_learns_that_place_matters_and_beats_equal_weights() -> None:
    frame = place_driven_frame()
    base = equal_base()
    weights, metrics = fit_weights(frame, "member_for_need", base)
    learned = weights.member_for_need
    assert metrics["used"] == "learned"
    assert learned["place"] > learned["semantic"] > learned["availability"]
    assert learned["place"] > 0.5
    assert metrics["learned"]["auc"] > metrics["base"]["auc"]
    assert metrics["learned"]["ndcg@5"] > metrics["base"]["ndcg@5"]
    assert metrics["n_train"] + metrics["n_valid"] == metrics["n_samples"] == 600
    # Other questions and retrieval are untouched; the base itself is not mutated.
    assert weights.free_text == base.free_text and weights.retrieval == base.retrieval
    assert base.member_for_need == dict.fromkeys(COMPONENTS, 1.0)


def test_split_is_grouped_by_subject() -> None:
    frame = place_driven_frame()
    _, metrics = fit_weights(frame, "member_for_need", equal_base())
    # 60 subjects of 10 rows: a grouped 25 % split keeps whole subjects together.
    assert metrics["n_valid"] % 10 == 0 and metrics["n_valid"] == 150


def test_a_profile_that_always_declines_zeroes_the_load_weight() -> None:
    """Members of profile x always decline and have a high ``load`` value.

    ``load`` then predicts *refusal*: an unconstrained logistic regression gives it a
    negative coefficient, which is not a valid weight. The constrained fit sets it to 0
    (instead of the base's 0.25) and the ranking improves.
    """
    rng = np.random.default_rng(7)
    frame = random_frame(seed=7)
    frame["profile_x"] = rng.random(len(frame)) < 0.35
    frame.loc[frame["profile_x"], "load"] = 0.8 + 0.2 * rng.random(int(frame["profile_x"].sum()))
    frame.loc[~frame["profile_x"], "load"] = 0.6 * rng.random(int((~frame["profile_x"]).sum()))
    accept = simulate_feedback(frame, rule=lambda r: sigmoid(5 * r["semantic"] - 2), random_state=7)
    frame["label"] = np.where(frame["profile_x"], 0, accept)

    unconstrained = LogisticRegression().fit(frame[COMPONENTS], frame["label"])
    assert unconstrained.coef_[0][COMPONENTS.index("load")] < 0

    base = equal_base()
    weights, metrics = fit_weights(frame.drop(columns="profile_x"), "member_for_need", base)
    assert metrics["used"] == "learned"
    assert base.member_for_need["load"] == 1.0 and weights.member_for_need["load"] == 0.0
    assert weights.member_for_need["semantic"] > 0.5
    assert metrics["learned"]["auc"] > metrics["base"]["auc"] + 0.05


# -- safe fallbacks ------------------------------------------------------------------


def test_too_few_samples_keeps_base_with_reason() -> None:
    base = equal_base()
    frame = place_driven_frame().head(20)
    weights, metrics = fit_weights(frame, "member_for_need", base)
    assert weights == base and metrics["used"] == "base"
    assert "pas assez" in metrics["reason"]


def test_single_class_keeps_base_with_reason() -> None:
    base = equal_base()
    frame = random_frame()
    frame["label"] = 0
    weights, metrics = fit_weights(frame, "member_for_need", base)
    assert weights == base and metrics["used"] == "base"
    assert "une seule issue" in metrics["reason"]


def test_unknown_question_is_rejected() -> None:
    with pytest.raises(ValueError, match="question inconnue"):
        fit_weights(place_driven_frame(), "best_pizza", equal_base())


def test_worse_learned_weights_are_not_used() -> None:
    # Pure noise (seed chosen so the fit loses on validation): the base must be kept.
    frame = random_frame(seed=2)
    frame["label"] = simulate_feedback(frame, rule=lambda r: 0.4, random_state=2)
    weights, metrics = fit_weights(frame, "member_for_need", equal_base())
    assert metrics["learned"]["auc"] < metrics["base"]["auc"]
    assert weights == equal_base() and metrics["used"] == "base"
    assert "moins bien en validation" in metrics["reason"]
    assert metrics["weights"] is not None  # the rejected table is still reported
