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
    """A store with a territory "sceaux": a partner, a member, a project held by a member and one
    held by an association (written straight to the store: keys need no index)."""
    from matching.domain import Member, Partner, Project, Territory

    store = Store(f"sqlite:///{tmp_path / 'var' / 'maillage.sqlite'}")
    with store.transaction() as tx:
        tx.upsert_territory(Territory(id="sceaux", name="Sceaux"))
        tx.upsert_partner("sceaux", Partner(id="hdsi", name="Hauts-de-Seine Initiative"))
        tx.upsert_member("sceaux", Member(id="m1", display_name="Claire B.", skills="comptabilité"))
        tx.upsert_project("sceaux", Project(id="p1", title="Épicerie", holder="m1"))
        tx.upsert_project("sceaux", Project(id="p2", title="Marche à pied", holder="Association Pas à pas"))
    store.dispose()
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
        # finding 6 of issue 15: unknown territories and subjects were accepted without a word
        (["--territory", "autre-ville", "--role", "agent"], "territoire inconnu : 'autre-ville'"),
        (["--territory", "sceaux", "--role", "member", "--subject", "nobody-here"], "membre inconnu : 'nobody-here'"),
        (["--territory", "sceaux", "--role", "partner", "--subject", "nobody-here"], "partenaire inconnu : 'nobody-here'"),
        (["--territory", "sceaux", "--role", "holder", "--subject", "nobody-here"], "ne porte aucun projet"),
        (["--territory", "sceaux", "--role", "holder", "--subject", "x" * 201], "200 caractères au plus"),
    ],
)
def test_keys_create_refuses_bad_input(env, args, message) -> None:
    result = CliRunner().invoke(app, ["keys", "create", *args], env=env)
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
    assert access.list_keys(Store(f"sqlite:///{env['MAILLAGE_DATA_DIR']}/maillage.sqlite")) == []


@pytest.mark.parametrize(
    ("role", "subject"),
    [("holder", "Association Pas à pas"), ("holder", "m1"), ("member", "m1"), ("partner", "hdsi")],
)
def test_keys_create_accepts_known_subjects_an_organisation_too(env, role, subject) -> None:
    """A project's holder is free text: "Association Pas à pas" holds a project, so a key may act for it."""
    result = CliRunner().invoke(
        app, ["keys", "create", "--territory", "sceaux", "--role", role, "--subject", subject, "-q"], env=env
    )
    assert result.exit_code == 0, result.output
    store = Store(f"sqlite:///{env['MAILLAGE_DATA_DIR']}/maillage.sqlite")
    assert access.authenticate(store, result.stdout.strip()).subject == subject
    store.dispose()


def test_keys_create_force_makes_a_key_for_what_does_not_exist_yet(env) -> None:
    args = ["keys", "create", "--territory", "autre-ville", "--role", "holder", "--subject", "Collectif à venir", "--force", "-q"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    store = Store(f"sqlite:///{env['MAILLAGE_DATA_DIR']}/maillage.sqlite")
    found = access.authenticate(store, result.stdout.strip())
    assert (found.territory_id, found.role, found.subject) == ("autre-ville", access.Role.HOLDER, "Collectif à venir")
    store.dispose()


def test_revoking_an_unknown_key_fails(env) -> None:
    result = CliRunner().invoke(app, ["keys", "revoke", "nope"], env=env)
    assert result.exit_code == 2 and "introuvable" in result.output
