"""Routes of issue 18: alignment with the territory's policy axes (``matching.policy``), similar
initiatives (``matching.similar``). Each route checks the key, calls ``matching``, returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import Anyone, EntityId, K, Rec, TerritoryId, allow
from api.routes import AUTH, ERR, R413
from matching import access, policy, similar
from matching.access import Principal, Role
from matching.domain import InputModel

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


# -- similar initiatives ------------------------------------------------------------------------------
class SimilarProject(BaseModel):
    territory_id: str = Field(description="Territoire du projet (un autre territoire : champs publics seulement)")
    id: str
    title: str
    stage: str
    similarity: float = Field(ge=0, le=1, description="Proximité de sens des deux textes (cosinus dans [0, 1])")
    duplicate: bool = Field(description="Probablement la même initiative (seuil duplicate_min de data/similar.json)")
    reason: str = Field(description="Les deux phrases les plus proches, citées")


class SimilarRequest(InputModel):
    text: str = Field(min_length=1, max_length=4000, description="Titre et description du projet ou de l'idée")
    k: int = Field(default=5, ge=1, le=50)
    across: bool = Field(default=False, description="Chercher aussi dans les autres territoires (agents, administrateurs)")


class DuplicatePairOut(BaseModel):
    a: SimilarProject
    b: SimilarProject
    similarity: float = Field(ge=0, le=1)
    reason: str


Across = Annotated[bool, Query(description="Chercher aussi dans les autres territoires (agents, administrateurs)")]


@router.get(
    "/territories/{territory_id}/projects/{project_id}/similar",
    tags=["initiatives semblables"],
    summary="Projets existants qui ressemblent à ce projet, avec la raison",
    response_model=list[SimilarProject],
    responses=ERR,
)
def similar_to_project(
    territory_id: TerritoryId, project_id: EntityId, rec: Rec, who: Anyone, k: K = 5, across: Across = False
) -> list[dict]:
    access.read_project(who, rec, territory_id, project_id)
    scope = access.similar_scope(who, territory_id, across, lambda: similar.territories(rec))
    return [similar.as_dict(s) for s in similar.similar_to_project(rec, territory_id, project_id, territory_ids=scope, k=k)]


@router.post(
    "/territories/{territory_id}/similar",
    tags=["initiatives semblables"],
    summary="Projets existants qui ressemblent à une idée (avant de la créer)",
    response_model=list[SimilarProject],
    responses=ERR,
)
def similar_to_text(territory_id: TerritoryId, body: SimilarRequest, rec: Rec, who: Anyone) -> list[dict]:
    scope = access.similar_scope(who, territory_id, body.across, lambda: similar.territories(rec))
    return [similar.as_dict(s) for s in similar.similar_to_text(rec, scope, body.text, k=body.k)]


@router.get(
    "/territories/{territory_id}/similar/duplicates",
    tags=["initiatives semblables"],
    summary="Rapport des doublons probables du territoire (paires de projets)",
    response_model=list[DuplicatePairOut],
    responses=ERR,
)
def duplicates_report(
    territory_id: TerritoryId, rec: Rec, who: Annotated[Principal, allow(*access.DUPLICATES_REPORT)]
) -> list[dict]:
    return [
        {"a": similar.as_dict(d.a), "b": similar.as_dict(d.b), "similarity": d.similarity, "reason": d.reason}
        for d in similar.duplicates(rec, territory_id)
    ]
