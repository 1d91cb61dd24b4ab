"""Domain errors -> HTTP statuses, and every error message in French, in one place.

Validation errors keep FastAPI's shape, ``{"detail": [{"loc", "msg", "type", "input"?}]}``,
with the message translated from pydantic's error ``type`` (``french_error``, the table of
``matching.messages``, which the command line and the ingest read too): "champ « k » : un
entier est attendu". A reply never echoes more than a short excerpt of the input
(``excerpt``: 100 characters at most, cut with "…"; lone surrogates shown escaped), and
lists at most ``MAX_ERRORS`` errors.

Example:
    >>> french_error({"type": "int_type", "loc": ("body", "k"), "msg": "Input should be a valid integer", "input": "3"})
    {'loc': ['body', 'k'], 'msg': 'champ « k » : un entier est attendu', 'type': 'int_type', 'input': '3'}
"""

from __future__ import annotations

import http
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from matching.access import Forbidden, Unauthenticated
from matching.errors import Conflict, InvalidRequest, NotFound, Unavailable
from matching.messages import cut, message, where

MAX_ERRORS = 20  # errors listed in one reply (a batch of 1000 bad events gives 20, and a count)
MAX_MESSAGE = 500
OMIT = object()  # an input that is not shown at all

# Starlette's own errors (unknown route, wrong method…) carry the English HTTP phrase.
HTTP_FRENCH: dict[int, str] = {
    400: "requête invalide",
    401: "authentification requise",
    403: "accès refusé",
    404: "adresse inconnue",
    405: "méthode non autorisée pour cette adresse",
    406: "format de réponse non disponible",
    415: "type de contenu non pris en charge",
    500: "erreur interne du serveur",
}


def excerpt(value: Any) -> Any:
    """What an error reply may show of an input value: a short scalar, or ``OMIT``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**15 else cut(str(value), 20)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # NaN and infinities are not JSON
    if isinstance(value, str):
        return cut(value)
    return OMIT  # objects and lists: their fields have their own errors; never echoed whole


SOURCES = {"query": "paramètre", "path": "paramètre", "header": "en-tête", "cookie": "cookie", "body": "champ"}


def _field(loc: list[Any]) -> str:
    """Where the error is, in words: "champ « events[0].at »", "paramètre « k »", "corps de la requête"."""
    source = loc[0] if loc and loc[0] in SOURCES else None
    path = where(loc[1:] if source else loc)
    if not path:
        return "corps de la requête" if source in (None, "body") else SOURCES[source]
    return f"{SOURCES[source or 'body']} « {path} »"


def french_error(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic/FastAPI validation error, in French and safe to send back."""
    type_ = str(error.get("type", "value_error"))
    loc = [cut(p) if isinstance(p, str) else p for p in error.get("loc", ())]
    if type_ == "json_invalid":
        # loc is ["body", position]
        at = f" (caractère {loc[1]})" if len(loc) > 1 and isinstance(loc[1], int) else ""
        text = f"corps de la requête illisible : JSON invalide{at}"
    else:
        text = f"{_field(loc)} : {message(error)}"
    out: dict[str, Any] = {"loc": loc, "msg": cut(text, MAX_MESSAGE), "type": type_}
    if "input" in error and type_ not in ("missing", "json_invalid"):
        shown = excerpt(error["input"])
        if shown is not OMIT:
            out["input"] = shown
    return out


def validation_detail(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    detail = [french_error(e) for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        detail.append(
            {
                "loc": ["body"],
                "msg": f"… et {len(errors) - MAX_ERRORS} autre(s) erreur(s) non détaillée(s)",
                "type": "too_many_errors",
            }
        )
    return detail


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": validation_detail(list(exc.errors()))})

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        # a body that is not even UTF-8 JSON is a bad payload like any other: 422, said in French
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            detail = [
                {"loc": ["body"], "msg": "corps de la requête illisible : du JSON en UTF-8 est attendu", "type": "json_invalid"}
            ]
            return JSONResponse(status_code=422, content={"detail": detail})
        # Starlette's own errors (no such route, wrong method) say the HTTP phrase in English
        phrase = http.HTTPStatus(exc.status_code).phrase if exc.status_code in HTTP_FRENCH else None
        if exc.detail == phrase:
            return JSONResponse(
                status_code=exc.status_code, content={"detail": HTTP_FRENCH[exc.status_code]}, headers=exc.headers
            )
        return await http_exception_handler(request, exc)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(InvalidRequest)
    async def _invalid(_: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        # the store restarts, is busy, full or read-only: not a bug of the request, try later
        return JSONResponse(status_code=503, content={"detail": str(exc)}, headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(_: Request, exc: Unauthenticated) -> JSONResponse:
        return JSONResponse(status_code=401, content={"detail": str(exc)}, headers={"WWW-Authenticate": "X-API-Key"})

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(exc)})
