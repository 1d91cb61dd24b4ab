"""Commands of issue 18: ``maillage policy`` (alignment with the policy axes), ``maillage similar``
(similar initiatives, likely duplicates) and ``maillage simulate`` (a month, one-sided against
reciprocal). ``matching.cli`` registers them; they use its settings and recommender."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from matching import cli_french
from matching.errors import MaillageError

policy_app = cli_french.Typer(
    help="Politique publique : alignement des projets avec les axes du territoire.", no_args_is_help=True
)

TerritoryOpt = Annotated[str, typer.Option("--territory", "-t", help="Territoire.")]
DEFAULT_TERRITORY = "sceaux-valley"


def _cli() -> Any:
    from matching import cli

    return cli


def _run(fn: Any) -> Any:
    """Run ``fn(rec)`` on an open recommender; a user error is a French message and exit code 2."""
    cli = _cli()
    rec = cli._recommender()
    try:
        return fn(rec)
    except MaillageError as exc:
        raise cli._fail(str(exc)) from None
    finally:
        rec.close()


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _cli()._fail(f"{what} illisible : {path} ({exc})") from None


@policy_app.command("show")
def policy_show(
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Écrire l'alignement de chaque projet avec chaque axe dans ce fichier CSV.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON au lieu d'un tableau.")] = False,
) -> None:
    """Par axe : projets qui le servent (par étape), appels ouverts et pourvus, membres engagés ; les lacunes."""
    from rich.table import Table

    from matching import policy

    def work(rec: Any) -> dict[str, Any]:
        if csv is not None:
            csv.write_text(policy.to_csv(policy.rows(rec, territory)), encoding="utf-8")
        return policy.report_dict(policy.policy_overview(rec, territory))

    report = _run(work)
    out = _cli().out
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    if not report["axes"]:
        out.print(f"Le territoire {territory} n'a pas d'axes de politique publique (champ « axes » du territoire).")
        return
    table = Table(title=f"Axes de politique publique — {territory} (seuil {report['serves_min']})", show_lines=True)
    for column in ("axe", "projets", "par étape", "appels ouverts", "pourvus", "membres engagés", "le plus aligné"):
        table.add_column(column)
    for axis in report["axes"]:
        stages = ", ".join(f"{s} {n}" for s, n in axis["projects_by_stage"].items() if n)
        best = axis["projects"][0]["reason"] if axis["projects"] else "[bold red]aucun projet : lacune[/]"
        table.add_row(
            axis["title"],
            str(len(axis["projects"])),
            stages,
            str(axis["needs_open"]),
            str(axis["needs_filled"]),
            str(axis["members_engaged"]),
            best or "",
        )
    out.print(table)
    if report["gaps"]:
        out.print("Axes qu'aucun projet ne sert : " + ", ".join(report["gaps"]))
    if csv is not None:
        out.print(f"CSV écrit : {csv}")


@policy_app.command("eval")
def policy_eval(
    truth: Annotated[Path, typer.Option(help="Vérité terrain du générateur (clé project_axes).")],
    territory: TerritoryOpt = DEFAULT_TERRITORY,
) -> None:
    """Mesurer l'alignement sur des projets étiquetés : exactitude du meilleur axe, précision et rappel au seuil (JSON)."""
    from matching import policy

    labels = _read_json(truth, "vérité terrain").get("project_axes")
    if not isinstance(labels, dict) or not labels:
        raise _cli()._fail(f"{truth} : pas de clé « project_axes » (régénérez la vérité avec data/generate_demo.py)")
    print(json.dumps(_run(lambda rec: policy.evaluate(rec, territory, labels)), ensure_ascii=False))
