"""The command line speaks French to whoever reads it: usage errors and help texts (issue 15,
finding 8: typer's and click's "No such option", "Invalid value…", "Show this message and exit.")."""

from __future__ import annotations

import ast
import re

import pytest
import typer
from typer.testing import CliRunner

from matching import cli_french
from matching.cli import app

# words of click's, typer's and pydantic's English messages (none of them is French)
ENGLISH = re.compile(
    r"\b(Usage|Error|Try|Show this message|No such|Invalid value|Missing|Got unexpected|extra argument|"
    r"required|default|Input should|should be|is not one of|Commands|Aborted|for help|argument\(s\))\b"
)
BOX = re.compile(r"[│╭╮╰╯─]+")


def plain(output: str) -> str:
    """What a person reads, without rich's boxes and line wrapping."""
    return " ".join(BOX.sub(" ", output).split())


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["keys", "create", "--bogus"], "Option inconnue : --bogus"),
        (["keys", "create", "--territory"], "L'option « --territory » attend une valeur."),
        (
            ["recommend", "members", "--need", "p1-n1", "-k", "abc"],
            "Valeur invalide pour « --k » / « -k » : un entier est attendu",
        ),
        (["ingest"], "Argument manquant « FICHIER »."),
        (["recommend", "members", "--need", "p1-n1", "-k", "0"], "doit être supérieur ou égal à 1"),
        (["recommend", "members"], "Option manquante « --need »."),
        (["keys", "revoke", "a", "b"], "Argument(s) en trop inattendu(s) : b"),
        (["keys", "revoke"], "Argument manquant « CLÉ »."),
        (["nope"], "Commande inconnue : « nope »."),
        (
            ["recommend", "text", "x", "--stage", "lune"],
            "« lune » n'est pas une valeur possible ; valeurs possibles : idee, test,",
        ),
        (["exposure", "--requests", "0"], "doit être supérieur ou égal à 1"),
    ],
)
def test_usage_errors_are_french(env, args, expected) -> None:
    result = run(*args, env=env)
    text = plain(result.output)
    assert result.exit_code == 2, text
    assert expected in text, text
    if args[-1] != "--territory":  # an option without its value: typer gives no usage line there
        assert "Utilisation : maillage" in text and "pour l'aide" in text, text
    assert not ENGLISH.search(text), text


def _commands(group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_help_text_is_french(env) -> None:
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 20
    for path in commands:
        result = run(*path, "--help", env=env)
        text = plain(result.output)
        assert result.exit_code == 0, (path, text)
        assert "Utilisation : maillage" in text and "Afficher cette aide et quitter." in text, (path, text)
        assert not ENGLISH.search(text), (path, ENGLISH.search(text), text)
        assert not re.search(r"<(str|int|float|bool|path)\b|\brange\b", text), (path, text)


def _raised_messages() -> list[str]:
    """Every message typer can raise as a usage error, as a sample: each ``{placeholder}`` of its
    f-string (or format string) replaced by a quoted value."""
    import pathlib

    sources = sorted(pathlib.Path(typer.__file__).parent.rglob("*.py"))
    raising = {"UsageError", "BadParameter", "BadOptionUsage", "BadArgumentUsage", "fail", "NoSuchOption"}
    found = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in raising:
                continue
            for arg in node.args:
                sample = _sample(arg)
                if sample is not None:
                    found.append(sample)
            for kw in node.keywords:
                if kw.arg == "message" and (sample := _sample(kw.value)) is not None:
                    found.append(sample)
    return found


def _sample(arg: ast.expr) -> str | None:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value if arg.value != "Only Deadpool is allowed" else None
    if isinstance(arg, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "'x'" for v in arg.values)
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format":
        inner = arg.func.value
        if isinstance(inner, ast.Call) and inner.args and isinstance(inner.args[0], ast.Constant):
            return re.sub(r"\{[^}]*\}", "'x'", inner.args[0].value)
    return None


def test_every_message_typer_raises_has_a_french_pattern() -> None:
    """A new typer that adds or rewords a usage error fails here, naming it."""
    samples = _raised_messages()
    assert len(samples) >= 10
    assert [m for m in samples if cli_french.translate(m) == m] == []


def test_no_such_option_class_messages_are_french() -> None:
    """The messages typer's exception classes build themselves."""
    from typer._click import exceptions

    assert cli_french.french_usage(exceptions.NoSuchOption("--x", possibilities=["--y"])) == (
        "Option inconnue : --x (options possibles : --y)"
    )
    assert cli_french.french_usage(exceptions.MissingParameter(param_type="option", param_hint="--need")) == (
        "Option manquante « --need »."
    )
    assert cli_french.french_usage(exceptions.BadParameter("Value must be an iterable.", param_hint=["--k", "-k"])) == (
        "Valeur invalide pour « --k » / « -k » : une liste de valeurs est attendue"
    )
