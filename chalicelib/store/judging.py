"""Judges, their assignments (score slots) and their scoring links.

`JudgingRepository` is the services' way in (services/repositories.JudgingRepository): it reads and writes the
domain records of domain/judging_record.py. The functions before it work on the PynamoDB rows.

Every write a stage window governs carries the window in the same transaction (a ConditionCheck on the stage
row), next to the slot's own condition and the audit row.
"""
from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

from ..domain import judging_record as record
from ..domain.errors import Conflict, Invalid, NotFound, StageClosed
from ..domain.mail_record import MailRecord
from ..domain.stage_record import StageRow
from . import audit, db, keys, stages
from .mail import save_in as save_mail
from .models import Assignment, Judge, Link, Session, Stage


# -- judges ---------------------------------------------------------------------------------
def list_judges(competition_id: str) -> list[Judge]:
    return list(Judge.query(competition_id))


def get_judge(competition_id: str, judge_id: str) -> Judge | None:
    try:
        return Judge.get(competition_id, judge_id)
    except Judge.DoesNotExist:
        return None


def save_judge(judge: Judge, actor: str, now: float, action: str, before: Any = None) -> None:
    with db.transaction() as t:
        t.save(judge)
        t.save(audit.entry(keys.judge_audit(judge.competition_id, judge.judge_id), actor, action, now, before=before,
                           after=judge.attribute_values))


def save_judges(judges: list[Judge], actor: str, now: float) -> None:
    """An import: all rows land together (transactions of up to 50 judges + their audit rows)."""
    for start in range(0, len(judges), 50):
        with db.transaction() as t:
            for judge in judges[start:start + 50]:
                t.save(judge)
                t.save(audit.entry(keys.judge_audit(judge.competition_id, judge.judge_id), actor, "judge.import", now,
                                   after=judge.attribute_values))


# -- assignments ----------------------------------------------------------------------------
def slots_of_judge(competition_id: str, stage: str, judge_id: str) -> list[Assignment]:
    return list(Assignment.query(keys.slot(competition_id, stage, judge_id)))


def slots_of_category(competition_id: str, stage: str, category: str, case_id: str | None = None,
                      attributes: Sequence[str] | None = None) -> list[Assignment]:
    """A category's slots (of one case); `attributes`: only those (to read, never to save)."""
    condition = Assignment.case_judge.startswith(f"{case_id}#") if case_id else None
    return list(Assignment.by_stage_category.query(keys.stage_category(competition_id, stage, category), condition,
                                                   attributes_to_get=list(attributes) if attributes else None))


def scores_of_category(competition_id: str, stage: str, category: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(case id, judge id, criteria, source) of every scored, not recused slot of a category: one Query whose
    filter drops the rest and whose projection returns the slot's key, criteria and source only (the
    ranking's read; source "extra": an extra judge near the cut)."""
    condition = (Assignment.scored == True) & ~(Assignment.recused == True)  # noqa: E712 (conditions)
    found = []
    for slot in Assignment.by_stage_category.query(keys.stage_category(competition_id, stage, category),
                                                   filter_condition=condition,
                                                   attributes_to_get=["case_judge", "criteria", "source"]):
        if slot.criteria is None:
            continue
        case_id, _, judge_id = slot.case_judge.partition("#")
        criteria = slot.criteria.as_dict() if hasattr(slot.criteria, "as_dict") else dict(slot.criteria)
        found.append((case_id, judge_id, criteria, slot.source or "plan"))
    return found


def slots_of_stage(competition_id: str, stage: str, categories: Iterable[str],
                   attributes: Sequence[str] | None = None) -> list[Assignment]:
    return [slot for category in categories
            for slot in slots_of_category(competition_id, stage, category, attributes=attributes)]


def new_slot(competition_id: str, stage: str, judge_id: str, case_id: str, category: str, title: str, now: float,
             source: str = "plan") -> Assignment:
    return Assignment(keys.slot(competition_id, stage, judge_id), case_id, stage=stage, judge_id=judge_id,
                      category=category, title=title,
                      stage_category=keys.stage_category(competition_id, stage, category),
                      case_judge=keys.case_judge(case_id, judge_id),
                      scored=False, recused=False, source=source, created_at=now)


def create_slots(competition_id: str, slots: list[Assignment], actor: str, now: float,
                 detail: dict[str, Any]) -> None:
    """New slots never overwrite an existing one (which may hold a score)."""
    for start in range(0, len(slots), 99):
        with db.transaction() as t:
            for slot in slots[start:start + 99]:
                t.save(slot, condition=Assignment.case_id.does_not_exist())
            if start == 0:
                t.save(audit.entry(keys.assignments_audit(competition_id, slots[0].stage), actor,
                                   "assignments.plan", now,
                                   detail=detail))


def create_extra_slots(slots: list[Assignment], competition_id: str, actor: str, now: float,
                       detail: dict[str, Any]) -> None:
    """Extra judges' slots (source "extra"), each transaction conditional on the stage being open and on
    each slot being new, with an audit row (`assignments.extra`): 98 slots + the check + the audit row."""
    with db.refused_as(Conflict("评委分配刚刚有变动，请刷新后重试"),
                       {"stage": StageClosed("文本评审未在进行中，不能增加评委")}):
        for start in range(0, len(slots), 98):
            with db.transaction() as t:
                t.condition_check(Stage, competition_id, slots[0].stage, condition=stages.open_condition(now),
                                  label="stage")
                for slot in slots[start:start + 98]:
                    t.save(slot, condition=Assignment.case_id.does_not_exist())
                t.save(audit.entry(keys.assignments_audit(competition_id, slots[0].stage), actor,
                                   "assignments.extra", now,
                                   detail={**detail, "part": start // 98 + 1,
                                           "pairs": [[s.judge_id, s.case_id] for s in slots[start:start + 98]]}))


def add_slot(competition_id: str, slot: Assignment, actor: str, now: float) -> None:
    with db.refused_as(Invalid("该评委已分配到这个案例", {"case_id": "已分配"})):
        with db.transaction() as t:
            t.save(slot, condition=Assignment.case_id.does_not_exist())
            t.save(audit.entry(keys.assignments_audit(competition_id, slot.stage), actor, "assignment.add", now,
                               after={"judge_id": slot.judge_id, "case_id": slot.case_id}))


def remove_slot(competition_id: str, stage: str, judge_id: str, case_id: str, actor: str, now: float) -> None:
    with db.refused_as(NotFound("没有这个分配（可能已被取消），请刷新页面")):
        with db.transaction() as t:
            t.delete(Assignment(keys.slot(competition_id, stage, judge_id), case_id),
                     condition=Assignment.case_id.exists())
            t.save(audit.entry(keys.assignments_audit(competition_id, stage), actor, "assignment.remove", now,
                               before={"judge_id": judge_id, "case_id": case_id}))


def get_slot_and_stage(stage: str, judge_id: str, case_id: str, competition_id: str):
    with db.read_together() as r:
        slot = r.get(Assignment, keys.slot(competition_id, stage, judge_id), case_id)
        row = r.get(Stage, competition_id, stage)
    return db.future_or_none(slot), db.future_or_none(row)


def write_slot(slot: Assignment, actions: list, competition_id: str, actor: str, action: str, now: float,
               before: Any, after: Any) -> None:
    """Change a judge's slot while its stage is open and the slot is still theirs (not recused)."""
    with db.refused_as(NotFound("这个案例没有分配给您（或您已回避）"),
                       {"stage": StageClosed("本阶段已截止，评分已锁定，不能再修改")}):
        with db.transaction() as t:
            t.condition_check(Stage, competition_id, slot.stage, condition=stages.open_condition(now), label="stage")
            t.update(slot, actions=actions, label="slot",
                     condition=Assignment.case_id.exists() & (Assignment.recused == False))  # noqa: E712
            t.save(audit.entry(f"case#{slot.case_id}", actor, action, now, before=before, after=after,
                               detail={"stage": slot.stage, "judge_id": slot.judge_id}))


# -- links ----------------------------------------------------------------------------------
TRANSACTION_ITEMS = 100   # DynamoDB's limit of one TransactWriteItems


def set_links(competition_id: str, links: list[tuple[str, str, str]], mails: Mapping[str, MailRecord], stage: str,
              actor: str, now: float, action: str = "link.issue") -> None:
    """New current links (judge id, seed, link hash) for many judges: each judge's Link row, audit row and the
    log row of their invitation mail (`mails` by judge id) together, in transactions of up to 100 items."""
    batch: list[tuple[str, str, str]] = []
    items = 0
    for link in links:
        size = 2 + (link[0] in mails)
        if items + size > TRANSACTION_ITEMS:
            _write_links(competition_id, batch, mails, stage, actor, now, action)
            batch, items = [], 0
        batch.append(link)
        items += size
    if batch:
        _write_links(competition_id, batch, mails, stage, actor, now, action)


def _write_links(competition_id: str, links: list[tuple[str, str, str]], mails: Mapping[str, MailRecord], stage: str,
                 actor: str, now: float, action: str) -> None:
    with db.transaction() as t:
        for judge_id, seed, link_hash in links:
            t.save(Link(keys.link(competition_id, judge_id, stage), link_hash=link_hash, link_id=seed,
                        issued_at=now))
            t.save(audit.entry(keys.judge_audit(competition_id, judge_id), actor, action, now, detail={"stage": stage}))
            if judge_id in mails:   # a new link's mail key is new: the row needs no claim
                save_mail(t, mails[judge_id])


def revoke_link(competition_id: str, judge_id: str, stage: str, actor: str, now: float) -> bool:
    """Revoke the link in force (its row stays, marked revoked); False when there was none to revoke."""
    try:
        with db.transaction() as t:
            t.update(Link(keys.link(competition_id, judge_id, stage)),
                     actions=[Link.link_hash.remove(), Link.link_id.remove(), Link.revoked_at.set(now)],
                     condition=Link.link_hash.exists())
            t.save(audit.entry(keys.judge_audit(competition_id, judge_id), actor, "link.revoke", now,
                               detail={"stage": stage}))
    except db.Refused:
        return False
    return True


def links_of(competition_id: str, stage: str, judge_ids: Iterable[str]) -> dict[str, Link]:
    """The link rows (in force or revoked) of these judges for the stage: one BatchGet per 100 judges."""
    wanted = [keys.link(competition_id, j, stage) for j in sorted(set(judge_ids))]
    if not wanted:
        return {}
    return {keys.link_parts(link.judge_stage)[1]: link for link in Link.batch_get(wanted)}


def links_of_stages(competition_id: str,
                    judges_by_stage: Mapping[str, Iterable[str]]) -> dict[str, dict[str, Link]]:
    """The link rows of several stages' judges, by stage then judge: one BatchGet per 100 keys in all."""
    wanted = sorted({keys.link(competition_id, j, stage) for stage, judges in judges_by_stage.items()
                     for j in judges})
    found: dict[str, dict[str, Link]] = {stage: {} for stage in judges_by_stage}
    for link in Link.batch_get(wanted) if wanted else []:
        _, judge_id, stage = keys.link_parts(link.judge_stage)
        if stage in found:
            found[stage][judge_id] = link
    return found


def open_session(competition_id: str, session: Session, now: float) -> bool:
    """Store a judge's session and mark its link opened, if the link is still the one in force."""
    try:
        with db.transaction() as t:
            t.save(session)
            t.update(Link(keys.link(competition_id, session.judge_id, session.stage)),
                     actions=[Link.opened_at.set(Link.opened_at | now)],
                     condition=Link.link_hash == session.link_hash)
            t.save(audit.entry(keys.judge_audit(competition_id, session.judge_id), f"judge:{session.judge_id}",
                               "session.open", now,
                               detail={"stage": session.stage}))
    except db.Refused:
        return False
    return True


def audit_links_shown(competition_id: str, stage: str, judge_ids: list[str], actor: str, now: float) -> None:
    """Showing a link in force to an organiser (显示链接, the QR sheet) is recorded, never the link itself."""
    audit.entry(keys.links_audit(competition_id, stage), actor, "link.show", now,
                detail={"stage": stage, "judges": judge_ids}).save()


def link_and_stage(judge_id: str, stage: str, competition_id: str) -> tuple[Link | None, Stage | None]:
    with db.read_together() as r:
        link = r.get(Link, keys.link(competition_id, judge_id, stage))
        row = r.get(Stage, competition_id, stage)
    return db.future_or_none(link), db.future_or_none(row)


def session_and_link(competition_id: str, token_hash: str, judge_id: str,
                     stage: str) -> tuple[Session | None, Link | None]:
    """A judge's session and the link it was opened from, in one call (the token names both)."""
    with db.read_together() as r:
        session = r.get(Session, token_hash)
        link = r.get(Link, keys.link(competition_id, judge_id, stage))
    return db.future_or_none(session), db.future_or_none(link)


# -- the repository -------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


def _judge(row: Judge) -> record.Judge:
    return record.Judge(competition_id=row.competition_id, judge_id=row.judge_id, name=row.name, email=row.email,
                        affiliation=row.affiliation, mobile=row.mobile, categories=tuple(row.categories or []),
                        conflicts=tuple(row.conflicts or []), created_at=float(row.created_at or 0),
                        updated_at=float(row.updated_at or 0))


def _judge_row(judge: record.Judge) -> Judge:
    return Judge(judge.competition_id, judge.judge_id, name=judge.name, email=judge.email, mobile=judge.mobile,
                 affiliation=judge.affiliation, categories=list(judge.categories),
                 conflicts=list(judge.conflicts), created_at=judge.created_at, updated_at=judge.updated_at)


def _criteria(raw: Any) -> Mapping[str, int] | None:
    if raw is None:
        return None
    values = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw)
    return MappingProxyType({k: int(v) for k, v in values.items()})


def _slot(row: Assignment, stage: str = "", category: str = "", case_id: str = "") -> record.Assignment:
    """A slot row as read; a projected row (`attributes`) lacks the fields it was not asked for: those take
    the query's stage, category and case, or their defaults."""
    judge_id = row.judge_id
    if row.case_judge and not judge_id:
        judge_id = row.case_judge.partition("#")[2]
    return record.Assignment(
        stage=row.stage or stage, judge_id=judge_id or "",
        case_id=row.case_id or (row.case_judge.partition("#")[0] if row.case_judge else case_id),
        category=row.category or category, title=row.title, criteria=_criteria(row.criteria),
        total=int(row.total) if row.total is not None else None, comment=row.comment,
        feedback=tuple(row.feedback) if row.feedback is not None else None, scored=bool(row.scored),
        scored_at=_number(row.scored_at), recused=bool(row.recused), recusal_reason=row.recusal_reason,
        source=row.source or "plan", created_at=float(row.created_at or 0))


def _slot_row(competition_id: str, slot: record.Assignment) -> Assignment:
    """The item of a new slot."""
    return new_slot(competition_id, slot.stage, slot.judge_id, slot.case_id, slot.category, slot.title or "",
                    slot.created_at, slot.source)


def _link(row: Link) -> record.Link:
    _, judge_id, stage = keys.link_parts(row.judge_stage)
    return record.Link(judge_id=judge_id, stage=stage, issued_at=float(row.issued_at or 0), link_hash=row.link_hash,
                       link_id=row.link_id, opened_at=_number(row.opened_at), revoked_at=_number(row.revoked_at))


def _session(row: Session) -> record.JudgeSession | None:
    if row.judge_id is None or row.stage is None or row.link_hash is None:
        return None     # not a judge's session
    return record.JudgeSession(token_hash=row.token_hash, judge_id=row.judge_id, stage=row.stage,
                               link_hash=row.link_hash, csrf=row.csrf or "", created_at=float(row.created_at),
                               expires_at=float(row.expires_at))


def _stage(row: Stage | None) -> StageRow | None:
    if row is None:
        return None
    return StageRow(competition_id=row.competition_id, stage_id=row.stage_id, opens_at=float(row.opens_at),
                    closes_at=float(row.closes_at), closed=bool(row.closed), closed_at=_number(row.closed_at),
                    settled=bool(row.settled))


class JudgingRepository:
    """Judges, slots, links and judge sessions in DynamoDB, as domain records; each write in one transaction
    with its conditions and audit row. Slots and links are keyed by the competition (store/keys.py)."""

    # judges
    def list_judges(self, competition_id: str) -> list[record.Judge]:
        return [_judge(r) for r in list_judges(competition_id)]

    def get_judge(self, competition_id: str, judge_id: str) -> record.Judge | None:
        row = get_judge(competition_id, judge_id)
        return _judge(row) if row is not None else None

    def save_judge(self, judge: record.Judge, actor: str, now: float, action: str, before: Any = None) -> None:
        save_judge(_judge_row(judge), actor, now, action, before)

    def save_judges(self, judges: Sequence[record.Judge], actor: str, now: float) -> None:
        save_judges([_judge_row(j) for j in judges], actor, now)

    # slots
    def slots_of_judge(self, competition_id: str, stage: str, judge_id: str) -> list[record.Assignment]:
        return [_slot(r, stage) for r in slots_of_judge(competition_id, stage, judge_id)]

    def slots_of_category(self, competition_id: str, stage: str, category: str, case_id: str | None = None,
                          attributes: Sequence[str] | None = None) -> list[record.Assignment]:
        return [_slot(r, stage, category, case_id or "")
                for r in slots_of_category(competition_id, stage, category, case_id, attributes)]

    def scores_of_category(self, competition_id: str, stage: str,
                           category: str) -> list[tuple[str, str, dict[str, Any], str]]:
        return scores_of_category(competition_id, stage, category)

    def slots_of_stage(self, competition_id: str, stage: str, categories: Iterable[str],
                       attributes: Sequence[str] | None = None) -> list[record.Assignment]:
        return [slot for category in categories
                for slot in self.slots_of_category(competition_id, stage, category, attributes=attributes)]

    def create_slots(self, competition_id: str, slots: Sequence[record.Assignment], actor: str, now: float,
                     detail: dict[str, Any]) -> None:
        create_slots(competition_id, [_slot_row(competition_id, s) for s in slots], actor, now, detail)

    def create_extra_slots(self, slots: Sequence[record.Assignment], competition_id: str, actor: str, now: float,
                           detail: dict[str, Any]) -> None:
        create_extra_slots([_slot_row(competition_id, s) for s in slots], competition_id, actor, now, detail)

    def add_slot(self, competition_id: str, slot: record.Assignment, actor: str, now: float) -> None:
        add_slot(competition_id, _slot_row(competition_id, slot), actor, now)

    def remove_slot(self, competition_id: str, stage: str, judge_id: str, case_id: str, actor: str,
                    now: float) -> None:
        remove_slot(competition_id, stage, judge_id, case_id, actor, now)

    def get_slot_and_stage(self, stage: str, judge_id: str, case_id: str,
                           competition_id: str) -> tuple[record.Assignment | None, StageRow | None]:
        slot, row = get_slot_and_stage(stage, judge_id, case_id, competition_id)
        return (_slot(slot) if slot is not None else None), _stage(row)

    def write_slot(self, slot: record.Assignment, changes: Mapping[str, Any], competition_id: str, actor: str,
                   action: str, now: float, before: Any, after: Any) -> record.Assignment:
        values = record.changed_slot(slot, changes)
        actions = [getattr(Assignment, name).set(value) for name, value in changes.items()]
        write_slot(Assignment(keys.slot(competition_id, slot.stage, slot.judge_id), slot.case_id, stage=slot.stage,
                              judge_id=slot.judge_id), actions, competition_id, actor, action, now, before, after)
        return replace(slot, **values)

    # links and judge sessions
    def set_links(self, competition_id: str, links: list[tuple[str, str, str]], mails: Mapping[str, MailRecord],
                  stage: str, actor: str, now: float, action: str = "link.issue") -> None:
        set_links(competition_id, links, mails, stage, actor, now, action)

    def revoke_link(self, competition_id: str, judge_id: str, stage: str, actor: str, now: float) -> bool:
        return revoke_link(competition_id, judge_id, stage, actor, now)

    def links_of(self, competition_id: str, stage: str, judge_ids: Iterable[str]) -> dict[str, record.Link]:
        return {j: _link(r) for j, r in links_of(competition_id, stage, judge_ids).items()}

    def links_of_stages(self, competition_id: str,
                        judges_by_stage: Mapping[str, Iterable[str]]) -> dict[str, dict[str, record.Link]]:
        return {stage: {j: _link(r) for j, r in rows.items()}
                for stage, rows in links_of_stages(competition_id, judges_by_stage).items()}

    def open_session(self, competition_id: str, session: record.JudgeSession, now: float) -> bool:
        return open_session(competition_id, Session(
            session.token_hash, role="judge", judge_id=session.judge_id, stage=session.stage,
            link_hash=session.link_hash, csrf=session.csrf, created_at=session.created_at,
            expires_at=session.expires_at), now)

    def audit_links_shown(self, competition_id: str, stage: str, judge_ids: list[str], actor: str,
                          now: float) -> None:
        audit_links_shown(competition_id, stage, judge_ids, actor, now)

    def link_and_stage(self, judge_id: str, stage: str,
                       competition_id: str) -> tuple[record.Link | None, StageRow | None]:
        link, row = link_and_stage(judge_id, stage, competition_id)
        return (_link(link) if link is not None else None), _stage(row)

    def session_and_link(self, competition_id: str, token_hash: str, judge_id: str,
                         stage: str) -> tuple[record.JudgeSession | None, record.Link | None]:
        session, link = session_and_link(competition_id, token_hash, judge_id, stage)
        return (_session(session) if session is not None else None), (_link(link) if link is not None else None)
