"""Domain errors -> HTTP statuses, and every error message in French, in one place.

Validation errors keep FastAPI's shape, ``{"detail": [{"loc", "msg", "type", "input"?}]}``,
with the message translated from pydantic's error ``type`` (``french_error``): "champ « k » :
un entier est attendu". A reply never echoes more than a short excerpt of the input
(``excerpt``: 100 characters at most, cut with "…"; lone surrogates shown escaped), and
lists at most ``MAX_ERRORS`` errors.

Example:
    >>> french_error({"type": "int_type", "loc": ("body", "k"), "msg": "Input should be a valid integer", "input": "3"})
    {'loc': ['body', 'k'], 'msg': 'champ « k » : un entier est attendu', 'type': 'int_type', 'input': '3'}
"""

from __future__ import annotations

import http
import math
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from matching.access import Forbidden, Unauthenticated
from matching.domain import ID_PATTERN
from matching.errors import Conflict, InvalidRequest, NotFound

EXCERPT = 100  # characters of the input an error reply may show
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


def _safe(text: str) -> str:
    """Text that UTF-8 can encode: a lone surrogate is written as its escape (\\ud800)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _cut(text: str, limit: int = EXCERPT) -> str:
    text = _safe(text)
    return text if len(text) <= limit else text[:limit] + "…"


def excerpt(value: Any) -> Any:
    """What an error reply may show of an input value: a short scalar, or ``OMIT``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**15 else _cut(str(value), 20)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # NaN and infinities are not JSON
    if isinstance(value, str):
        return _cut(value)
    return OMIT  # objects and lists: their fields have their own errors; never echoed whole


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _choices(ctx: dict[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace(" or ", " ou ")


def _pattern(ctx: dict[str, Any]) -> str:
    pattern = str(ctx.get("pattern", ""))
    if pattern == ID_PATTERN:
        return "identifiant invalide : lettres, chiffres et _ . : - (128 au plus, sans espace), commençant par une lettre ou un chiffre"
    if pattern == r"^\d{5}$":
        return "cinq chiffres sont attendus"
    return f"format invalide (motif attendu : {_cut(pattern)})"


def _too_short(ctx: dict[str, Any]) -> str:
    n = ctx.get("min_length", 1)
    if n == 1:
        return "ne doit pas être vide (les espaces et les caractères invisibles ne comptent pas)"
    return f"au moins {n} caractères (sans compter les espaces et les caractères invisibles aux extrémités)"


def _domain(ctx: dict[str, Any]) -> str:
    # the domain's validators raise ValueError with their own French message: keep it
    return str(ctx.get("error", "valeur refusée"))


DATE = "une date au format AAAA-MM-JJ est attendue"
DATETIME = "une date et heure ISO 8601 est attendue (par exemple 2026-12-01T10:00:00Z)"
OBJECT = "un objet JSON est attendu"
LIST = "une liste est attendue"
BOOL = "true ou false est attendu"
INT = "un entier est attendu"
NUMBER = "un nombre est attendu"

MESSAGES: dict[str, str | Callable[[dict[str, Any]], str]] = {
    "missing": "obligatoire, absent",
    "extra_forbidden": "champ inconnu (non accepté)",
    "int_type": INT,
    "int_parsing": INT,
    "int_parsing_size": "entier trop grand",
    "int_from_float": "un entier est attendu (sans partie décimale)",
    "float_type": NUMBER,
    "float_parsing": NUMBER,
    "finite_number": "un nombre fini est attendu",
    "bool_type": BOOL,
    "bool_parsing": BOOL,
    "string_type": "du texte est attendu",
    "string_unicode": "texte Unicode invalide (caractère de substitution isolé) ; du texte UTF-8 valide est attendu",
    "string_sub_type": "du texte est attendu",
    "string_too_short": _too_short,
    "string_too_long": lambda c: f"au plus {c.get('max_length')} caractères",
    "too_short": lambda c: f"au moins {c.get('min_length')} élément(s)",
    "too_long": lambda c: f"au plus {c.get('max_length')} éléments",
    "greater_than_equal": lambda c: f"doit être supérieur ou égal à {_number(c.get('ge'))}",
    "greater_than": lambda c: f"doit être strictement supérieur à {_number(c.get('gt'))}",
    "less_than_equal": lambda c: f"doit être inférieur ou égal à {_number(c.get('le'))}",
    "less_than": lambda c: f"doit être strictement inférieur à {_number(c.get('lt'))}",
    "multiple_of": lambda c: f"doit être un multiple de {_number(c.get('multiple_of'))}",
    "literal_error": lambda c: f"valeur non reconnue ; valeurs possibles : {_choices(c)}",
    "enum": lambda c: f"valeur non reconnue ; valeurs possibles : {_choices(c)}",
    "string_pattern_mismatch": _pattern,
    "date_type": DATE,
    "date_parsing": DATE,
    "date_from_datetime_parsing": DATE,
    "date_from_datetime_inexact": "une date sans heure est attendue (AAAA-MM-JJ)",
    "date_past": "une date passée est attendue",
    "date_future": "une date future est attendue",
    "datetime_type": DATETIME,
    "datetime_parsing": DATETIME,
    "datetime_from_date_parsing": DATETIME,
    "datetime_object_invalid": DATETIME,
    "timezone_aware": "une date et heure avec fuseau horaire est attendue",
    "timezone_naive": "une date et heure sans fuseau horaire est attendue",
    "json_invalid": "JSON invalide",
    "json_type": "du JSON est attendu",
    "model_type": OBJECT,
    "model_attributes_type": OBJECT,
    "dict_type": OBJECT,
    "mapping_type": OBJECT,
    "list_type": LIST,
    "tuple_type": LIST,
    "set_type": LIST,
    "frozen_set_type": LIST,
    "iterable_type": LIST,
    "none_required": "null est attendu",
    "is_instance_of": "type de valeur non accepté",
    "union_tag_invalid": "valeur non reconnue",
    "union_tag_not_found": "champ discriminant absent",
    "value_error": _domain,
    "assertion_error": _domain,
}
SOURCES = {"query": "paramètre", "path": "paramètre", "header": "en-tête", "cookie": "cookie", "body": "champ"}


def _field(loc: list[Any]) -> str:
    """Where the error is, in words: "champ « events[0].at »", "paramètre « k »", "corps de la requête"."""
    source = loc[0] if loc and loc[0] in SOURCES else None
    parts = loc[1:] if source else loc
    path = ""
    for p in parts:
        path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
    if not path:
        return "corps de la requête" if source in (None, "body") else SOURCES[source]
    return f"{SOURCES[source or 'body']} « {path} »"


def french_error(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic/FastAPI validation error, in French and safe to send back."""
    type_ = str(error.get("type", "value_error"))
    loc = [_cut(p) if isinstance(p, str) else p for p in error.get("loc", ())]
    ctx = error.get("ctx") or {}
    if type_ == "json_invalid":
        # loc is ["body", position]
        where = f" (caractère {loc[1]})" if len(loc) > 1 and isinstance(loc[1], int) else ""
        message = f"corps de la requête illisible : JSON invalide{where}"
    else:
        rule = MESSAGES.get(type_, f"valeur refusée ({type_})")
        text = rule(ctx) if callable(rule) else rule
        message = f"{_field(loc)} : {text}"
    out: dict[str, Any] = {"loc": loc, "msg": _cut(message, MAX_MESSAGE), "type": type_}
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

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(_: Request, exc: Unauthenticated) -> JSONResponse:
        return JSONResponse(status_code=401, content={"detail": str(exc)}, headers={"WWW-Authenticate": "X-API-Key"})

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(exc)})
