"""French messages for pydantic's validation errors, in one place: the API's replies
(``api/errors.py``), the command line's usage errors (``matching/cli_french.py``) and the
ingest's line-and-field errors all read a pydantic error through ``message``.

The message is chosen by the error's ``type`` (pydantic's English ``msg`` is never shown); the
domain's own validators raise French ``ValueError``s, which are kept as they are.

Example:
    >>> message({"type": "int_parsing", "loc": ("k",), "msg": "Input should be a valid integer", "ctx": {}})
    'un entier est attendu'
    >>> where(["events", 0, "at"])
    'events[0].at'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matching.domain import ID_PATTERN

EXCERPT = 100  # characters of an input a message may show


def safe(text: str) -> str:
    """Text that UTF-8 can encode: a lone surrogate is written as its escape (\\ud800)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def cut(text: str, limit: int = EXCERPT) -> str:
    text = safe(text)
    return text if len(text) <= limit else text[:limit] + "…"


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
    return f"format invalide (motif attendu : {cut(pattern)})"


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


def message(error: dict[str, Any]) -> str:
    """The French text of one pydantic error (without the field it is about)."""
    type_ = str(error.get("type", "value_error"))
    rule = MESSAGES.get(type_, f"valeur refusée ({type_})")
    return rule(error.get("ctx") or {}) if callable(rule) else rule


def where(loc: Any) -> str:
    """A pydantic location as a path: ``events[0].at``."""
    path = ""
    for p in loc:
        path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
    return path
