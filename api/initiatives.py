"""Routes of issue 18: alignment with the territory's policy axes (``matching.policy``), similar
initiatives (``matching.similar``). Each route checks the key, calls ``matching``, returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.deps import Anyone, EntityId, Rec, TerritoryId, allow
from api.routes import AUTH, ERR, R413
from matching import access, policy
from matching.access import Principal, Role

router = APIRouter(responses=AUTH | R413)
A, G, N = Role.ADMIN, Role.AGENT, Role.ANALYST
Analysts = Annotated[Principal, allow(A, G, N)]


class AxisProject(BaseModel):
    id: str
    title: str
    stage: str
    alignment: float = Field(ge=0, le=1, description="Alignement avec l'axe (cosinus dans [0, 1])")
    reason: str | None = Field(description="La phrase du projet la plus proche de l'axe, citée")


class AxisSummary(BaseModel):
    id: str
    title: str
    projects: list[AxisProject] = Field(description="Projets qui servent l'axe, du plus aligné au moins aligné")
    projects_by_stage: dict[str, int]
    needs_open: int = Field(description="Appels à compétences ouverts de ces projets")
    needs_filled: int = Field(description="Appels à compétences pourvus de ces projets")
    members_engaged: int = Field(description="Membres engagés sur ces projets (les deux côtés d'accord)")


class PolicyOverview(BaseModel):
    territory_id: str
    serves_min: float = Field(description="Alignement à partir duquel un projet sert un axe (data/policy.json)")
    axes: list[AxisSummary]
    gaps: list[str] = Field(description="Axes qu'aucun projet ne sert")
    unaligned: list[str] = Field(description="Projets qui ne servent aucun axe")


class AxisAlignment(BaseModel):
    axis_id: str
    alignment: float = Field(ge=0, le=1)
    serves: bool
    reason: str | None = Field(description="Pour un axe que le projet sert : sa phrase la plus proche de l'axe, citée")


@router.get(
    "/territories/{territory_id}/policy",
    tags=["politique publique"],
    summary="Vue par axe de politique publique : projets par étape, appels, membres engagés, lacunes",
    response_model=PolicyOverview,
    responses=ERR,
)
def policy_overview(territory_id: TerritoryId, rec: Rec, who: Analysts) -> dict:
    return policy.report_dict(policy.policy_overview(rec, territory_id))


@router.get(
    "/territories/{territory_id}/policy.csv",
    tags=["politique publique"],
    summary="Alignement de chaque projet avec chaque axe (CSV, une ligne par axe et projet)",
    response_class=Response,
    responses=ERR | {200: {"content": {"text/csv": {}}, "description": "CSV (en-tête : " + ", ".join(policy.CSV_COLUMNS) + ")"}},
)
def policy_csv(territory_id: TerritoryId, rec: Rec, who: Analysts) -> Response:
    text = policy.to_csv(policy.rows(rec, territory_id))
    headers = {"Content-Disposition": f'attachment; filename="{territory_id}-axes.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/territories/{territory_id}/projects/{project_id}/alignment",
    tags=["politique publique"],
    summary="Alignement d'un projet avec chaque axe du territoire, expliqué",
    response_model=list[AxisAlignment],
    responses=ERR,
)
def project_alignment(territory_id: TerritoryId, project_id: EntityId, rec: Rec, who: Anyone) -> list[dict]:
    access.read_project(who, rec, territory_id, project_id)
    aligned = policy.project_alignment(rec, territory_id, project_id)
    return [{"axis_id": a.axis_id, "alignment": a.value, "serves": a.serves, "reason": a.reason} for a in aligned]
