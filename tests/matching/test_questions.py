"""The question pipeline: a question is a spec; the pipeline does the rest."""

from __future__ import annotations

from matching import questions
from matching.domain import Match, Member
from matching.questions import Ask, Probe, QuestionSpec
from matching.recommender import Recommender
from matching.store import queries


def _member(ctx) -> Member:
    return Member.model_validate(
        queries.member_document(ctx.tx, territory_pk=ctx.model.territory_pk, member_id=ctx.ask.subject_id)
    )


def _matches(ctx, subject, hits) -> list[Match]:
    members = ctx.model.members(ctx.tx, [h.pk for h in hits])
    return [
        Match(
            id=members[h.pk].id,
            kind="member",
            label=members[h.pk].display_name,
            score=h.score,
            breakdown=h.breakdown,
            reasons=["profil proche"],
        )
        for h in hits
    ]


# a question the service does not ask (yet): members whose profile resembles a member's
SIMILAR_MEMBERS = QuestionSpec(
    name="free_text",
    kind="member",
    subject=_member,
    probes=lambda ctx, member: [Probe(member.text(), ctx.model.available_members(ctx.tx))],
    exclude=lambda ctx, member: ctx.model.member_columns(ctx.tx).pk_of.get(member.id),
    components=lambda ctx, member, probe, pool: {},
    tie_break=questions.RANK_OF_KIND["member"],
    matches=_matches,
)


def test_a_new_question_is_one_spec(rec: Recommender) -> None:
    similar = rec.ask(SIMILAR_MEMBERS, "mini", Ask("m1", 3))
    assert 1 <= len(similar) <= 3 and "m1" not in [m.id for m in similar]
    assert [m.score for m in similar] == sorted((m.score for m in similar), reverse=True)
    assert all(set(m.breakdown) <= {"semantic", "lexical", "neighbours"} for m in similar)


def test_every_question_names_its_weights_and_kind() -> None:
    specs = [questions.MEMBER_FOR_NEED, questions.NEED_FOR_MEMBER, questions.OFFERING_FOR_PROJECT, questions.PROJECT_FOR_PARTNER]
    assert [s.name for s in specs] == ["member_for_need", "need_for_member", "offering_for_project", "project_for_partner"]
    assert [s.kind for s in specs] == ["member", "need", "offering", "project"]
    assert questions.FREE_TEXT.kind is None  # the target of the search says which
