"""The design rules the code keeps (docs/architecture.md): read from the source, so a change that
breaks one fails here with the place at fault."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("api", "matching", "embeddings")
OUTSIDE_THE_PRODUCT = ("benchmarks", "scripts", "data")
STORE = ROOT / "matching" / "store"


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def imports(path: Path) -> set[str]:
    """Every module a file imports (at any depth: lazy imports count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_dependencies_point_one_way() -> None:
    """api -> matching -> embeddings; the domain never imports FastAPI; embeddings knows nothing of the rest."""
    wrong = []
    for path in sources("embeddings"):
        wrong += [f"{path.relative_to(ROOT)} imports {m}" for m in imports(path) if m.split(".")[0] in ("matching", "api")]
    for path in sources("matching"):
        wrong += [
            f"{path.relative_to(ROOT)} imports {m}" for m in imports(path) if m.split(".")[0] in ("api", "fastapi", "starlette")
        ]
    assert wrong == []


def test_no_database_session_outside_the_store() -> None:
    """Every SQL statement lives in matching/store: nobody else imports SQLAlchemy or reaches for a session."""
    session = re.compile(r"\btx\.session\b|\.s\.(execute|scalar|scalars|add|flush|get)\(|\bSession\(|\.connection\(\)")
    wrong = []
    for path in sources(*PRODUCT, *OUTSIDE_THE_PRODUCT):
        if STORE in path.parents:
            continue
        rel = path.relative_to(ROOT)
        wrong += [f"{rel} imports {m}" for m in imports(path) if m.split(".")[0] == "sqlalchemy" or m == "matching.store.schema"]
        wrong += [f"{rel}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1) if session.search(line)]
    assert wrong == []


def test_no_row_leaves_the_store() -> None:
    """The store package exports functions, Store, Tx and Changes: no table row class."""
    import matching.store as store

    exported = {name for name in dir(store) if not name.startswith("_")}
    assert not {name for name in exported if name.endswith("Row")}


def test_the_facade_stays_small() -> None:
    assert len((ROOT / "matching" / "recommender.py").read_text().splitlines()) <= 500


def test_no_class_holds_more_than_about_ten_attributes() -> None:
    """Attributes of state assigned on ``self`` (scikit-learn estimators keep their own convention)."""
    wrong = []
    for path in sources(*PRODUCT):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or any(getattr(b, "id", "") == "BaseEstimator" for b in node.bases):
                continue
            names = set()
            for sub in ast.walk(node):
                targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target] if isinstance(sub, ast.AnnAssign) else []
                for target in targets:
                    for elt in target.elts if isinstance(target, ast.Tuple) else [target]:
                        if isinstance(elt, ast.Attribute) and getattr(elt.value, "id", "") == "self":
                            names.add(elt.attr)
            if len(names) > 11:
                wrong.append(f"{path.relative_to(ROOT)}:{node.name} {sorted(names)}")
    assert wrong == []


def test_no_test_reaches_into_the_facade() -> None:
    """Tests and benchmarks use public interfaces: no ``rec._something``."""
    private = re.compile(r"\b(rec|a|b|fresh|other|demo)\._[a-z]")
    wrong = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sources("tests", "benchmarks")
        if p.name != "test_architecture.py"
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert wrong == []
