"""`maillage keys create|list|revoke` and the key rules of ``matching.access``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from matching import access
from matching.cli import app
from matching.store import Store


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"MAILLAGE_DATA_DIR": str(tmp_path / "var")}


def test_keys_create_list_revoke(env, tmp_path) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app, ["keys", "create", "--territory", "sceaux", "--role", "partner", "--subject", "hdsi", "-q"], env=env
    )
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("mlg_")
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"], env=env).stdout)
    assert [(k["territory"], k["role"], k["subject"], k["revoked_at"]) for k in listed] == [("sceaux", "partner", "hdsi", None)]
    assert key not in json.dumps(listed)  # never the secret
    store = Store(f"sqlite:///{tmp_path / 'var' / 'maillage.sqlite'}")
    assert access.authenticate(store, key) == access.Principal(listed[0]["key_id"], "sceaux", access.Role.PARTNER, "hdsi")
    assert runner.invoke(app, ["keys", "revoke", listed[0]["key_id"]], env=env).exit_code == 0
    with pytest.raises(access.Unauthenticated, match="révoquée"):
        access.authenticate(store, key)
    store.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--territory", "sceaux", "--role", "chef"], "inconnu"),
        (["--territory", "sceaux", "--role", "member"], "exige un sujet"),
        (["--territory", "sceaux", "--role", "analyst", "--subject", "m1"], "n'a pas de sujet"),
        (["--territory", "a b", "--role", "admin"], "territoire"),
    ],
)
def test_keys_create_refuses_bad_input(env, args, message) -> None:
    result = CliRunner().invoke(app, ["keys", "create", *args], env=env)
    assert result.exit_code == 2 and message in result.output


def test_revoking_an_unknown_key_fails(env) -> None:
    result = CliRunner().invoke(app, ["keys", "revoke", "nope"], env=env)
    assert result.exit_code == 2 and "introuvable" in result.output
