"""The command line in French: typer's usage errors and help texts.

Typer (0.29) parses the command line with its own copy of click, whose messages are English
f-strings without a translation hook ("No such option: --x", "Invalid value for '--k':…",
"Missing option '--need'.", "Got unexpected extra argument(s) (b)", "Show this message and
exit.", "Usage:"). So the translation happens where each text is produced, in one place:

- **usage errors**: the ``maillage`` group (``FrenchGroup``) catches every usage error that
  comes up from parsing a command line, and raises it again with a French message
  (``french_usage``): by the error's class (unknown option, missing option or argument, bad
  value) and, for the other messages, by ``MESSAGES`` (English pattern -> French). A value
  refused by pydantic (typer checks the types with it) is said with the API's table
  (``matching.messages``);
- **help texts**: our commands' own help is French; the usage line, the ``--help`` option,
  the panels' titles and markers (``RICH_TEXTS``, constants of ``typer.rich_utils``) and the
  type of each value (``TYPE_LABELS``) are replaced by ``install``.

``tests/matching/test_cli_french.py`` runs every command's ``--help`` and each kind of usage
error, and checks that every message typer can raise has a French pattern here: a new typer
that adds or rewords one fails there, naming it.

Example:
    >>> translate("Got unexpected extra argument(s) (b)")
    'Argument(s) en trop inattendu(s) : b'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer import _click as click_
from typer import core as typer_core

from matching import messages

USAGE_PREFIX = "Utilisation : "
HELP_OPTION = "Afficher cette aide et quitter."
OPTIONS_METAVAR = "[OPTIONS]"
COMMAND_METAVAR = "COMMANDE [ARGUMENTS]..."

# constants of typer.rich_utils (help panels, markers, the error box)
RICH_TEXTS = {
    "DEPRECATED_STRING": "(obsolète) ",
    "DEFAULT_STRING": "[par défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Abandon.",
    "RICH_HELP": "Essayez [blue]« {command_path} {help_option} »[/] pour l'aide.",
}

# the type of a value in the help (typer writes <str>, <int range>…); flags show none
TYPE_LABELS = {
    "str": "texte",
    "int": "entier",
    "float": "nombre",
    "int range": "entier",
    "float range": "nombre",
    "path": "chemin",
    "Path": "chemin",
    "datetime": "date et heure",
    "uuid": "UUID",
    "UUID": "UUID",
}

# English message of typer (regular expression) -> French (format string of its groups)
MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.DOTALL), f)
    for p, f in [
        (r"Got unexpected extra argument\(s\) \((?P<args>.*)\)", "Argument(s) en trop inattendu(s) : {args}"),
        (r"No such command '(?P<name>.*)'\.", "Commande inconnue : « {name} »."),
        (r"Missing command\.", "Commande manquante."),
        (r"Option '(?P<name>.*)' requires an argument\.", "L'option « {name} » attend une valeur."),
        (r"Option '(?P<name>.*)' requires (?P<n>.*?)(?: arguments\.)?", "L'option « {name} » attend {n} valeurs."),
        (r"Option '(?P<name>.*)' does not take a value\.", "L'option « {name} » ne prend pas de valeur."),
        (r"Argument '(?P<name>.*)' takes (?P<n>.*) values\.", "L'argument « {name} » prend {n} valeurs."),
        (r"No such option: (?P<name>.*)", "Option inconnue : {name}"),
        (r"Value must be an iterable\.", "une liste de valeurs est attendue"),
        (r"Value (?P<value>.*) is not a valid (?P<label>.*)\.", "valeur invalide : {value}"),
        (
            r"(?P<value>'.*') is not one of (?P<choices>.*)\.",
            "« {value} » n'est pas une valeur possible ; valeurs possibles : {choices}",
        ),
        (r"\S+ (?P<file>.+) does not exist\.", "{file} n'existe pas"),
        (r"\S+ (?P<file>.+) is a file\.", "{file} est un fichier (un dossier est attendu)"),
        (r"\S+ (?P<file>.+) is a directory\.", "{file} est un dossier (un fichier est attendu)"),
        (r"\S+ (?P<file>.+) is not readable\.", "{file} ne peut pas être lu"),
        (r"\S+ (?P<file>.+) is not writable\.", "{file} ne peut pas être écrit"),
        (r"(?P<file>'.*'): (?P<reason>.*)", "{file} : {reason}"),
    ]
]


def _unquoted(text: str) -> str:
    """'lune' -> lune; "'idee', 'test'" -> idee, test."""
    return re.sub(r"'([^']*)'", r"\1", text)


def translate(text: str) -> str:
    """One of typer's English messages in French (the text itself when no pattern knows it)."""
    for pattern, french in MESSAGES:
        found = pattern.fullmatch(text.strip())
        if found:
            return french.format(**{k: _unquoted(v) for k, v in found.groupdict().items()})
    return text


def _hint(exc: Any) -> str:
    """The parameter an error is about: « --k » / « -k »."""
    hint = exc.param_hint if exc.param_hint is not None else (exc.param.get_error_hint() if exc.param else None)
    if hint is None:
        return ""
    names = hint.split(" / ") if isinstance(hint, str) else list(hint)
    return " / ".join(f"« {_unquoted(n)} »" for n in names)


def _value_message(exc: Any) -> str:
    """Why a value was refused: pydantic's error said with the API's French table, else typer's message."""
    cause = exc.__cause__
    errors = cause.errors() if cause is not None and hasattr(cause, "errors") else []
    if errors:
        error = errors[0]
        if error.get("type") == "value_error":  # typer's own check (a choice), raised as a ValueError
            return translate(str((error.get("ctx") or {}).get("error", error.get("msg", ""))))
        return messages.message(error)
    return translate(exc.message)


def french_usage(exc: Any) -> str:
    """The French message of one of typer's usage errors."""
    if isinstance(exc, click_.exceptions.NoSuchOption):
        text = f"Option inconnue : {exc.option_name}"
        if exc.possibilities:
            text += " (options possibles : " + ", ".join(sorted(exc.possibilities)) + ")"
        return text
    if isinstance(exc, click_.exceptions.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        what = {"option": "Option manquante", "argument": "Argument manquant"}.get(kind, "Paramètre manquant")
        hint = _hint(exc)
        return f"{what} {hint}." if hint else f"{what}."
    if isinstance(exc, click_.exceptions.BadParameter):
        hint = _hint(exc)
        reason = _value_message(exc)
        return f"Valeur invalide pour {hint} : {reason}" if hint else f"Valeur invalide : {reason}"
    return translate(exc.message)


@contextmanager
def french_errors() -> Iterator[None]:
    """Usage errors raised inside come out with a French message (help pages pass through)."""
    try:
        yield
    except click_.exceptions.NoArgsIsHelpError:
        raise
    except click_.exceptions.UsageError as exc:
        if getattr(exc, "french", False):
            raise
        french = click_.exceptions.UsageError(french_usage(exc), exc.ctx)
        french.french = True  # type: ignore[attr-defined]
        raise french from exc


class _French:
    """What our commands and groups say in French: the usage line and the ``--help`` option."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix=USAGE_PREFIX)  # type: ignore[attr-defined]

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION
        return option


class FrenchCommand(_French, typer_core.TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)


class FrenchGroup(_French, typer_core.TyperGroup):
    """A group whose usage errors, its subcommands' included, are said in French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs["subcommand_metavar"] = kwargs.get("subcommand_metavar") or COMMAND_METAVAR
        super().__init__(*args, **kwargs)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with french_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with french_errors():
            return super().invoke(ctx)


class Typer(typer.Typer):
    """``typer.Typer`` whose groups and commands speak French (``FrenchGroup``, ``FrenchCommand``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", FrenchGroup)
        kwargs.setdefault("add_completion", False)  # its options' help is English, and the service needs none
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", FrenchCommand)
        return super().command(*args, **kwargs)


def _display_type(original: Any) -> Any:
    def display_type(self: Any, ctx: Any) -> str:
        label = original(self, ctx)
        inner = label[1:-1] if label.startswith("<") and label.endswith(">") else label
        return f"<{TYPE_LABELS.get(inner, inner)}>"

    return display_type


def _display_type_rich(original: Any) -> Any:
    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) and self.metavar is None:
            return None  # a flag takes no value: no type to show
        return original(self, ctx)

    return display_type_rich


def install() -> None:
    """Put the French texts in typer's help (once per process)."""
    from typer import rich_utils

    if getattr(typer_core, "_maillage_french", False):
        return
    for name, text in RICH_TEXTS.items():
        setattr(rich_utils, name, text)
    typer_core._TyperParameter.display_type = _display_type(typer_core._TyperParameter.display_type)  # type: ignore[method-assign]
    typer_core.TyperOption.display_type_rich = _display_type_rich(typer_core.TyperOption.display_type_rich)  # type: ignore[method-assign]
    typer_core._maillage_french = True  # type: ignore[attr-defined]
