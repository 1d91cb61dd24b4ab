"""Learn a question's component weights from the outcomes of past suggestions.

Each past suggestion is one row: its score components as shown at the time (a missing
component is NaN) and a label (1 = accepted or completed, 0 = declined or no answer).
``ComponentRanker`` fits a logistic model whose coefficients are constrained to be
non-negative, so that, once normalised to sum to 1, they are valid weights for the
service's weighted mean (``matching.fusion.weighted_mean``). ``fit_weights`` wraps it with a
held-out validation against the current weights and only adopts the learned table when
it is at least as good.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame(rng.random((200, 2)), columns=["semantic", "place"])
    >>> frame["label"] = simulate_feedback(frame, rule=lambda r: r["place"])
    >>> ranker = ComponentRanker().fit(frame[["semantic", "place"]], frame["label"])
    >>> ranker.weights_["place"] > ranker.weights_["semantic"]
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import ndcg_score, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from matching import fusion
from matching.domain import WEIGHTS_KEYS
from matching.scoring import COMPONENT_LABELS, Weights

SUBJECT_COL = "subject_id"
NDCG_K = 5

# A coefficient at or below this is treated as zero: L-BFGS-B lands exactly on the bound
# in theory, but floating noise can leave ~1e-12 values that would otherwise count.
_ZERO = 1e-9


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # Split by sign so that exp never overflows for large |z|.
    out = np.empty_like(z, dtype=float)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def weighted_mean_score(frame: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """The service's score for each row: weighted mean of the components present.

    NaN (missing) components are skipped in both the numerator and the denominator, like
    the service does (``matching.fusion.weighted_mean``, the one formula); a row with no
    weighted component scores 0.

    Args:
        frame: One column per component (extra columns are ignored).
        weights: Component name → non-negative weight (need not sum to 1).

    Returns:
        One score in [0, 1] per row.

    Example:
        >>> frame = pd.DataFrame({"semantic": [1.0, 0.5], "place": [0.0, np.nan]})
        >>> weighted_mean_score(frame, {"semantic": 3, "place": 1}).tolist()
        [0.75, 0.5]
    """
    names = [c for c, w in weights.items() if w > 0 and c in frame.columns]
    if not names:
        return np.zeros(len(frame))
    values = {c: frame[c].to_numpy(dtype=float) for c in names}
    present = {c: ~np.isnan(v) for c, v in values.items()}
    return np.asarray(fusion.weighted_mean({c: np.nan_to_num(v) for c, v in values.items()}, dict(weights), present))


class ComponentRanker(ClassifierMixin, BaseEstimator):
    """Logistic model with non-negative coefficients on the score components.

    Non-negativity is enforced by the fit itself, not by clipping afterwards: the
    L2-penalised logistic loss (same form as scikit-learn's ``LogisticRegression``,
    ``C * sum(log_loss) + ||coef||² / 2``, intercept not penalised) is minimised with
    L-BFGS-B and a lower bound of 0 on each coefficient. Clipping an unconstrained fit
    would keep the other coefficients as if the negative one still compensated for them;
    the bounded fit re-balances them. Components are already in [0, 1], so coefficients
    are comparable and ``coef_ / coef_.sum()`` gives weights for the weighted mean.

    The mixin comes before ``BaseEstimator`` as scikit-learn ≥ 1.6 requires for tags.

    Args:
        C: Inverse of the L2 regularisation strength.
        min_samples: Fewer training rows than this → ``fit`` raises ``ValueError``.
        min_per_class: Fewer rows than this in either class → ``ValueError``.
        random_state: Kept for API symmetry (the solver is deterministic).
        fill_value: Value given to a missing (NaN) component for the logistic model.

    Attributes:
        classes_: The two labels seen in ``fit``.
        feature_names_in_: Column names, when ``X`` was a DataFrame.
        components_: Component names (column names, or ``x0``, ``x1``… for arrays).
        coef_: Non-negative coefficients, one per component.
        intercept_: Unconstrained intercept.
        weights_: Component → weight, non-negative, summing to 1.
        degenerate_: True when every coefficient was 0 and ``weights_`` fell back to equal weights.

    Example:
        >>> X = pd.DataFrame({"place": np.linspace(0, 1, 40), "load": np.full(40, 0.5)})
        >>> y = (X["place"] > 0.5).astype(int)
        >>> ranker = ComponentRanker(min_samples=10).fit(X, y)
        >>> round(ranker.weights_["place"], 2), ranker.predict(X.iloc[[0, -1]]).tolist()
        (1.0, [0, 1])
    """

    def __init__(
        self,
        C: float = 1.0,
        min_samples: int = 30,
        min_per_class: int = 5,
        random_state: int = 0,
        fill_value: float = 0.5,
    ) -> None:
        self.C = C
        self.min_samples = min_samples
        self.min_per_class = min_per_class
        self.random_state = random_state
        self.fill_value = fill_value

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing component is normal, filled in _filled
        return tags

    # -- fitting ------------------------------------------------------------------

    def fit(self, X: pd.DataFrame | np.ndarray, y: Any) -> ComponentRanker:
        """Fit the non-negative logistic model.

        Args:
            X: One column per component, values in [0, 1], NaN when missing.
            y: 0/1 labels (any two labels; the larger one is the positive class).

        Returns:
            self.

        Raises:
            ValueError: Too few rows, a single class, or too few rows in a class.
        """
        if self.C <= 0:
            raise ValueError(f"C doit être strictement positif (reçu {self.C})")
        X_arr, y_arr = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=float, ensure_min_samples=1)
        check_classification_targets(y_arr)
        n = X_arr.shape[0]
        if n < self.min_samples:
            raise ValueError(f"pas assez d'exemples pour apprendre : {n} < {self.min_samples} (min_samples)")
        self.classes_, y_idx = np.unique(y_arr, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(f"il faut exactement deux classes (acceptée / refusée), reçu {len(self.classes_)}")
        counts = np.bincount(y_idx, minlength=2)
        if counts.min() < self.min_per_class:
            raise ValueError(
                f"pas assez d'exemples par classe : {counts.tolist()} (il en faut au moins {self.min_per_class} dans chacune)"
            )
        names = getattr(self, "feature_names_in_", None)
        self.components_ = [str(c) for c in names] if names is not None else [f"x{i}" for i in range(X_arr.shape[1])]

        Xf = np.where(np.isnan(X_arr), self.fill_value, X_arr)
        yf = y_idx.astype(float)
        C = float(self.C)

        def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            b, w = theta[0], theta[1:]
            z = b + Xf @ w
            # log(1 + e^z) - y z, the logistic log-loss written to avoid overflow.
            loss = C * float(np.sum(np.logaddexp(0.0, z) - yf * z)) + 0.5 * float(w @ w)
            r = _sigmoid(z) - yf
            grad = np.concatenate([[C * r.sum()], C * (Xf.T @ r) + w])
            return loss, grad

        p = Xf.shape[1]
        bounds = [(None, None)] + [(0.0, None)] * p  # intercept free, coefficients ≥ 0
        result = minimize(loss_grad, np.zeros(p + 1), jac=True, method="L-BFGS-B", bounds=bounds)
        coef = np.where(result.x[1:] > _ZERO, result.x[1:], 0.0)
        self.coef_ = coef
        self.intercept_ = float(result.x[0])
        self.n_iter_ = int(result.nit)
        total = coef.sum()
        self.degenerate_ = bool(total <= 0)
        if self.degenerate_:
            # Nothing predicts acceptance positively: equal weights are the neutral choice.
            self.weights_ = {c: 1.0 / p for c in self.components_}
        else:
            self.weights_ = {c: float(v / total) for c, v in zip(self.components_, coef, strict=True)}
        return self

    # -- prediction ---------------------------------------------------------------

    def _raw(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            # Service frames carry extra columns (subject_id, label…) and may lack a
            # component entirely: select by name, an absent component is all NaN.
            X = X.reindex(columns=list(self.feature_names_in_))
        return validate_data(self, X, ensure_all_finite="allow-nan", dtype=float, reset=False)

    def _filled(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        raw = self._raw(X)
        return np.where(np.isnan(raw), self.fill_value, raw)

    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Log-odds of acceptance for each row."""
        X_filled = self._filled(X)  # checks fitted before reading the coefficients
        return self.intercept_ + X_filled @ self.coef_

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probabilities of ``classes_[0]`` and ``classes_[1]``, shape (n, 2)."""
        p1 = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The more likely label for each row."""
        scores = self.decision_function(X)  # checks fitted before classes_ is read
        return self.classes_[(scores > 0).astype(int)]

    def score_weights(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The score the service would compute with ``weights_`` (NaN components skipped)."""
        raw = self._raw(X)
        return weighted_mean_score(pd.DataFrame(raw, columns=self.components_), self.weights_)


# -- fitting a question's table ------------------------------------------------------


def _split(y: np.ndarray, groups: np.ndarray | None, test_size: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Train / validation indices, stratified on the label and grouped by subject if any.

    ``GroupShuffleSplit`` cannot stratify, so several grouped splits are drawn and the
    one whose validation acceptance rate is closest to the overall rate is kept (with
    both classes on each side): close to stratified, and no subject leaks across sides.
    """
    idx = np.arange(len(y))
    if groups is None:
        train, valid = train_test_split(idx, test_size=test_size, random_state=random_state, stratify=y)
        return np.asarray(train), np.asarray(valid)
    rate = y.mean()
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    splitter = GroupShuffleSplit(n_splits=20, test_size=test_size, random_state=random_state)
    for train, valid in splitter.split(idx, y, groups):
        if len(np.unique(y[train])) < 2 or len(np.unique(y[valid])) < 2:
            continue
        gap = abs(y[valid].mean() - rate)
        if best is None or gap < best[0]:
            best = (gap, train, valid)
    if best is None:
        raise ValueError("impossible de séparer apprentissage et validation avec les deux classes de chaque côté")
    return best[1], best[2]


def _mean_ndcg(scores: np.ndarray, y: np.ndarray, groups: np.ndarray | None, k: int = NDCG_K) -> float | None:
    """Mean nDCG@k of the per-subject rankings.

    Only subjects with ≥ 2 suggestions and ≥ 1 acceptance count: with one row or no
    acceptance every ranking is equally good, so they would only dilute the comparison.
    """
    keys = np.zeros(len(y)) if groups is None else groups
    values = []
    for key in pd.unique(keys):
        mask = keys == key
        if mask.sum() < 2 or y[mask].sum() == 0:
            continue
        values.append(ndcg_score(y[mask][None, :], scores[mask][None, :], k=k))
    return float(np.mean(values)) if values else None


def _metrics(scores: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> dict[str, float | None]:
    auc = float(roc_auc_score(y, scores)) if len(np.unique(y)) == 2 else None
    return {"auc": auc, f"ndcg@{NDCG_K}": _mean_ndcg(scores, y, groups)}


def fit_weights(
    frame: pd.DataFrame,
    question: str,
    base: Weights,
    *,
    label_col: str = "label",
    test_size: float = 0.25,
    random_state: int = 0,
    min_samples: int = 30,
) -> tuple[Weights, dict[str, Any]]:
    """Learn the weight table of one question and validate it against ``base``.

    Components are the columns of ``frame`` named in ``COMPONENT_LABELS`` with at least
    one value. The learned table replaces the question's table only when its validation
    ROC AUC is at least the base's; components of the base table absent from the data
    get weight 0 (they cannot be learned, and 0 means "ignored" in the weighted mean).

    Args:
        frame: One row per past suggestion: components, ``label_col`` (0/1) and
            optionally ``subject_id`` (the need / member / project the suggestion was for).
        question: One of ``matching.domain.WEIGHTS_KEYS``.
        base: Current weights; every other question and ``retrieval`` are kept.
        label_col: Name of the label column.
        test_size: Share of rows (of subjects, when grouped) held out for validation.
        random_state: Seed of the split.
        min_samples: Fewer labelled rows than this → ``base`` returned unchanged.

    Returns:
        The weights to use and a metrics dict (``question``, ``n_samples``, ``n_train``,
        ``n_valid``, ``positives``, ``base``, ``learned``, ``weights``, ``used`` and,
        when nothing was learned, ``reason``).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> frame = pd.DataFrame(rng.random((300, 2)), columns=["semantic", "place"])
        >>> frame["label"] = simulate_feedback(frame, rule=lambda r: r["place"])
        >>> base = Weights.model_validate({"free_text": {"semantic": 1, "place": 1}})
        >>> weights, metrics = fit_weights(frame, "free_text", base)
        >>> metrics["used"], weights.free_text["place"] > weights.free_text["semantic"]
        ('learned', True)
    """
    if question not in WEIGHTS_KEYS:
        raise ValueError(f"question inconnue : {question!r} (attendu : {', '.join(WEIGHTS_KEYS)})")
    if label_col not in frame.columns:
        raise ValueError(f"colonne d'étiquette absente : {label_col!r}")
    data = frame[frame[label_col].notna()].reset_index(drop=True)
    components = [c for c in COMPONENT_LABELS if c in data.columns and data[c].notna().any()]
    y = data[label_col].to_numpy(dtype=int)
    positives = int(y.sum())
    metrics: dict[str, Any] = {
        "question": question,
        "n_samples": len(data),
        "n_train": 0,
        "n_valid": 0,
        "positives": positives,
        "components": components,
        "base": None,
        "learned": None,
        "weights": None,
        "used": "base",
    }

    def keep_base(reason: str) -> tuple[Weights, dict[str, Any]]:
        metrics["reason"] = reason
        return base.model_copy(deep=True), metrics

    if not components:
        return keep_base("aucune composante de score dans les données")
    if len(data) < min_samples:
        return keep_base(f"pas assez de suggestions avec une issue : {len(data)} < {min_samples}")
    if positives == 0 or positives == len(data):
        return keep_base("une seule issue observée (toutes acceptées ou toutes refusées) : rien à apprendre")

    groups = data[SUBJECT_COL].to_numpy() if SUBJECT_COL in data.columns else None
    try:
        train, valid = _split(y, groups, test_size, random_state)
        # min_samples was checked on the whole frame; the train part is smaller by design.
        ranker = ComponentRanker(min_samples=min(min_samples, len(train)), random_state=random_state)
        ranker.fit(data.loc[train, components], y[train])
    except ValueError as exc:
        return keep_base(str(exc))

    X_valid = data.loc[valid, components]
    g_valid = None if groups is None else groups[valid]
    base_table = base.for_question(question)  # type: ignore[arg-type]
    metrics["n_train"], metrics["n_valid"] = len(train), len(valid)
    metrics["base"] = _metrics(weighted_mean_score(X_valid, base_table), y[valid], g_valid)
    metrics["learned"] = _metrics(ranker.score_weights(X_valid), y[valid], g_valid)
    metrics["degenerate"] = ranker.degenerate_

    table = {c: 0.0 for c in base_table} | {c: round(w, 4) for c, w in ranker.weights_.items()}
    metrics["weights"] = table
    base_auc, learned_auc = metrics["base"]["auc"], metrics["learned"]["auc"]
    if ranker.degenerate_:
        return keep_base("aucune composante n'explique les acceptations : poids actuels conservés")
    if base_auc is not None and learned_auc is not None and learned_auc < base_auc:
        return keep_base(f"les poids appris font moins bien en validation (AUC {learned_auc:.3f} < {base_auc:.3f})")
    metrics["used"] = "learned"
    return Weights.model_validate(base.model_dump() | {question: table}), metrics


def simulate_feedback(
    frame: pd.DataFrame,
    *,
    rule: Callable[[pd.Series], float],
    random_state: int = 0,
) -> pd.Series:
    """Draw 0/1 labels, each row accepted with probability ``rule(row)`` (clipped to [0, 1]).

    Args:
        frame: The suggestions (any columns ``rule`` reads).
        rule: Row → acceptance probability.
        random_state: Seed of the draw.

    Returns:
        Integer labels named ``label``, indexed like ``frame``.

    Example:
        >>> frame = pd.DataFrame({"place": [0.0, 1.0]})
        >>> simulate_feedback(frame, rule=lambda r: r["place"]).tolist()
        [0, 1]
    """
    rng = np.random.default_rng(random_state)
    p = frame.apply(rule, axis=1).to_numpy(dtype=float) if len(frame) else np.zeros(0)
    labels = (rng.random(len(frame)) < np.clip(p, 0.0, 1.0)).astype(int)
    return pd.Series(labels, index=frame.index, name="label")
