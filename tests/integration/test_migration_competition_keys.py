"""The key migration (scripts/migrate_competition_keys.py) on a finished 2023 competition whose rows are in the
shapes written before keys carried the competition: every read the services make is the same afterwards, a
dry run writes nothing, a second run changes nothing, and a 2024 competition on the same tables sees no 2023 row.

The old shapes are made from the finished competition (tests/integration/finished_competition.py) by
`to_old_shapes`, which rewrites each row exactly as the code before the migration wrote it.
"""
from __future__ import annotations

from typing import Any

import pytest

from scripts import migrate_competition_keys as migration
from tests.integration.finished_competition import finished_world

COMP = "shenzhen-2023"
NEXT = "shenzhen-2024"
STAGES = ("text_review", "final")


@pytest.fixture(scope="module")
def world():
    with finished_world() as shared:
        yield shared


def _stores() -> tuple[Any, dict[str, str]]:
    from chalicelib import bootstrap
    from chalicelib.store import schema
    return bootstrap.client("dynamodb"), schema.table_names()


def _old_shape(logical: str, item: dict[str, Any]) -> dict[str, Any] | None:
    """The row as the code before the migration wrote it (None: a row whose key did not change)."""
    def s(name: str) -> str:
        return item.get(name, {}).get("S", "")
    prefix = f"{COMP}#"
    if logical == "assignments" and s("stage_judge").startswith(prefix):
        return {**item, "stage_judge": {"S": s("stage_judge").removeprefix(prefix)},
                "stage_category": {"S": s("stage_category").removeprefix(prefix)}}
    if logical == "links" and s("judge_stage").startswith(prefix):
        return {**item, "judge_stage": {"S": s("judge_stage").removeprefix(prefix)}}
    mail_prefix = f"{s('kind')}#{s('competition_id')}#"
    if logical == "mail_log" and s("mail_key").startswith(mail_prefix):
        return {**item, "mail_key": {"S": s("kind") + "#" + s("mail_key").removeprefix(mail_prefix)}}
    if logical == "audit":
        head, _, rest = s("object_key").partition("#")
        if head in migration.AUDIT_PREFIXES and rest.startswith(prefix):
            return {**item, "object_key": {"S": f"{head}#{rest.removeprefix(prefix)}"}}
    return None


def to_old_shapes() -> dict[str, int]:
    """Rewrite every row of the stack into its old key (the new-keyed row removed); how many per table."""
    dynamodb, tables = _stores()
    counts: dict[str, int] = {}
    for table in migration.TABLES:
        for item in list(migration._scan(dynamodb, tables[table.logical])):
            old = _old_shape(table.logical, item)
            if old is None:
                continue
            dynamodb.put_item(TableName=tables[table.logical], Item=old)
            dynamodb.delete_item(TableName=tables[table.logical], Key={k: item[k] for k in table.keys})
            counts[table.logical] = counts.get(table.logical, 0) + 1
    return counts


def reads(org, competition_id: str = COMP) -> dict[str, Any]:
    """What the services read of the competition: rankings, every score, links, mail states, audit trails."""
    from chalicelib import bootstrap
    from chalicelib.store import audit, keys
    from chalicelib.store.models import MailRecord
    deps = bootstrap.deps()
    comp = bootstrap.competition()
    judges = [j.judge_id for j in deps.judging.list_judges(COMP)]
    mails = sorted((r.mail_key, r.status, r.kind) for r in MailRecord.by_competition.query(COMP)
                   if r.mail_key.startswith(f"{r.kind}#{competition_id}#"))
    return {
        "rankings": {stage: org.call("GET", f"/admin/stages/{stage}/ranking")[1] for stage in STAGES},
        "scores": {(stage, c): sorted(deps.judging.scores_of_category(competition_id, stage, c))
                   for stage in STAGES for c in comp.category_ids},
        "slots": sorted((s.stage, s.judge_id, s.case_id, s.total) for stage in STAGES
                        for s in deps.judging.slots_of_stage(competition_id, stage, comp.category_ids)),
        "links": {stage: {j: (link.link_hash, link.issued_at) for j, link in
                          deps.judging.links_of(competition_id, stage, judges).items()} for stage in STAGES},
        "mail": mails,
        "audit": {key: [(e.entry_key, e.action, e.actor) for e in audit.history(key)]
                  for key in [*(keys.stage_audit(competition_id, s) for s in ("submission", *STAGES)),
                              *(keys.assignments_audit(competition_id, s) for s in STAGES),
                              *(keys.judge_audit(competition_id, j) for j in judges)]},
    }


def test_a_finished_2023_stack_in_the_old_shapes_migrates_without_loss(world) -> None:
    finished, _ = world
    org = finished.org
    before = reads(org)
    assert before["scores"][("text_review", "development")] and before["mail"] and before["links"]["text_review"]
    assert all(before["audit"][f"stage#{COMP}#{s}"] for s in STAGES)

    downgraded = to_old_shapes()
    assert set(downgraded) == {"assignments", "links", "mail_log", "audit"}
    old = reads(org)
    assert not any(old["scores"].values()) and not old["slots"] and not old["mail"]   # the old rows are not seen

    dynamodb, tables = _stores()
    dry = migration.migrate(dynamodb, tables, COMP, dry_run=True)
    assert dry.moved == downgraded and dry.deleted == {} and reads(org) == old     # a dry run writes nothing
    assert any("would move" in line for line in dry.lines())

    done = migration.migrate(dynamodb, tables, COMP)
    assert done.moved == downgraded and done.deleted == downgraded
    assert reads(org) == before                                          # every read as before

    again = migration.migrate(dynamodb, tables, COMP)
    assert again.moved == {t.logical: 0 for t in migration.TABLES} and again.deleted == {}
    assert reads(org) == before

    # 2024 on the same tables, with the same stage and judge ids: none of 2023's rows
    following = reads(org, NEXT)
    assert not any(following["scores"].values()) and not following["slots"] and not following["mail"]
    assert not any(following["links"].values()) and not any(following["audit"].values())


def test_the_shapes_move_one_way_only() -> None:
    item = {"stage_judge": {"S": "text_review#j1"}, "stage_category": {"S": "text_review#development"},
            "case_id": {"S": "c1"}}
    moved = migration.assignment(item, COMP)
    assert moved is not None and moved["stage_judge"]["S"] == f"{COMP}#text_review#j1"
    assert moved["stage_category"]["S"] == f"{COMP}#text_review#development"
    assert migration.assignment(moved, COMP) is None
    assert migration.link({"judge_stage": {"S": "j1#final"}}, COMP) == {"judge_stage": {"S": f"{COMP}#j1#final"}}
    assert migration.link({"judge_stage": {"S": f"{COMP}#j1#final"}}, COMP) is None
    row = {"mail_key": {"S": "award#c1#a@b.cn"}, "kind": {"S": "award"}, "competition_id": {"S": COMP}}
    assert migration.mail(row, "other")["mail_key"]["S"] == f"award#{COMP}#c1#a@b.cn"   # the row's own competition
    assert migration.mail({**row, "mail_key": {"S": f"award#{COMP}#c1#a@b.cn"}}, COMP) is None
    assert migration.audit({"object_key": {"S": "stage#final"}}, COMP) == {"object_key": {"S": f"stage#{COMP}#final"}}
    for kept in ("case#c1", "account#u1", f"stage#{COMP}#final", f"draw#{COMP}#final#development", "archive#archive"):
        assert migration.audit({"object_key": {"S": kept}}, COMP) is None
