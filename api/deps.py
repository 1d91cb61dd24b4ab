"""Dependency aliases shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from matching.domain import ID_PATTERN
from matching.recommender import Recommender


def get_recommender(request: Request) -> Recommender:
    return request.app.state.recommender


Rec = Annotated[Recommender, Depends(get_recommender)]
TerritoryId = Annotated[str, Path(pattern=ID_PATTERN, description="Identifiant du territoire")]
EntityId = Annotated[str, Path(pattern=ID_PATTERN, description="Identifiant externe")]
K = Annotated[int, Query(ge=1, le=50, description="Nombre de résultats (1 à 50)")]
