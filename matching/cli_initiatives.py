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


SHOWN_AFTER_INGEST = 5


def ingest_duplicates(rec: Any, batch: Any) -> list[str]:
    """What an ingest prints after writing: the likely duplicates among the projects it wrote and
    those already there (the first few, and how to see them all)."""
    from matching import similar

    lines = []
    by_territory: dict[str, set[str]] = {}
    for tid, project in batch.projects:
        by_territory.setdefault(tid, set()).add(project.id)
    for tid, ids in by_territory.items():
        try:
            pairs = similar.duplicates(rec, tid, among=ids)
        except MaillageError:  # too many projects to compare every pair here
            continue
        if not pairs:
            continue
        lines.append(f"{len(pairs)} paire(s) de projets probablement en double dans {tid} (maillage similar --report -t {tid}) :")
        lines += [f"  {p.a.title} ({p.a.id}) ~ {p.b.title} ({p.b.id}) : {p.similarity:.2f}" for p in pairs[:SHOWN_AFTER_INGEST]]
    return lines


def similar_cmd(
    project: Annotated[str | None, typer.Option(help="Projet existant dont on cherche les semblables.")] = None,
    text: Annotated[str | None, typer.Option(help="Texte d'une idée ou d'un projet pas encore créé.")] = None,
    report: Annotated[bool, typer.Option("--report", help="Rapport des doublons probables du territoire.")] = False,
    calibrate: Annotated[
        Path | None, typer.Option(help="Mesurer le seuil sur des paires étiquetées (data/generate_demo.py --similar-pairs).")
    ] = None,
    territory: TerritoryOpt = DEFAULT_TERRITORY,
    across: Annotated[bool, typer.Option("--across", help="Chercher aussi dans les autres territoires.")] = False,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="Nombre de résultats.")] = 5,
) -> None:
    """Initiatives semblables : projets qui ressemblent à un projet ou à une idée, doublons probables, calibrage (JSON)."""
    from matching import similar

    chosen = [
        name for name, v in (("--project", project), ("--text", text), ("--report", report), ("--calibrate", calibrate)) if v
    ]
    if len(chosen) != 1:
        raise _cli()._fail("indiquez exactement une des options --project, --text, --report ou --calibrate")
    if calibrate is not None:
        data = _read_json(calibrate, "paires étiquetées")
        print(json.dumps(_run(lambda rec: similar.calibrate(rec, data.get("pairs", []) if isinstance(data, dict) else data))))
        return

    def work(rec: Any) -> Any:
        scope = similar.territories(rec) if across else [territory]
        if across:
            scope = [territory, *(t for t in scope if t != territory)]
        if report:
            return [
                {"a": similar.as_dict(d.a), "b": similar.as_dict(d.b), "similarity": d.similarity, "reason": d.reason}
                for d in similar.duplicates(rec, territory)
            ]
        if project:
            return [similar.as_dict(s) for s in similar.similar_to_project(rec, territory, project, territory_ids=scope, k=k)]
        return [similar.as_dict(s) for s in similar.similar_to_text(rec, scope, text or "", k=k)]

    print(json.dumps(_run(work), ensure_ascii=False))


def simulate_cmd(
    days: Annotated[int, typer.Option(help="Jours simulés.", min=1, max=366)] = 30,
    per_day: Annotated[int, typer.Option(help="Membres contactés par appel et par jour.", min=1, max=10)] = 1,
    stated: Annotated[float, typer.Option(help="Part des membres qui ont dit leurs préférences.", min=0.0, max=1.0)] = 0.6,
    wants: Annotated[
        float, typer.Option(help="Poids de la composante wants dans la variante réciproque.", min=0.01, max=10.0)
    ] = 0.3,
    seed: Annotated[int, typer.Option(help="Graine des réponses simulées.")] = 0,
) -> None:
    """Un mois simulé sur la démonstration, à sens unique puis réciproque : taux d'acceptation, délai pour pourvoir un appel (JSON)."""
    from matching.simulate import simulate

    cli = _cli()
    try:
        result = simulate(cli.settings(), days=days, per_day=per_day, stated=stated, seed=seed, wants=wants)
    except MaillageError as exc:
        raise cli._fail(str(exc)) from None
    print(json.dumps(result, ensure_ascii=False))
