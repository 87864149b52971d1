"""优秀案例展示: the awarded cases read for the public page (one Query of the competition's index, the fields the page
shows and the showcase marks only), and the two marks written, each with its audit row in one transaction.

The marks are attributes of the case, not of its body: changing them never bumps the body's version. Each write is
conditional on the mark it read, so two changes at once cannot both land over the same before.

`ShowcaseRepository` is the services' way in (services/repositories.ShowcaseRepository): the awarded cases as
domain `ShownCase` (domain/result_record.py), the marks written on domain cases.
"""
from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime

from ..domain import case_record
from ..domain.case_record import frozen_map
from ..domain.clock import epoch
from ..domain.result_record import ShownCase
from ..domain.errors import VersionConflict
from . import audit, db
from .models import Case

SHOWN_FIELDS = ("id", "status", "body", "prize", "showcase_choice", "showcase_hidden")


def awarded(competition_id: str) -> list[Case]:
    """The competition's awarded cases (a Query of `by_competition` filtered on the status; never a Scan)."""
    return list(Case.by_competition.query(competition_id, filter_condition=Case.status == "awarded",
                                          attributes_to_get=list(SHOWN_FIELDS)))


def _unchanged(attribute, value):
    return attribute.does_not_exist() if value is None else attribute == value


def set_choice(case: case_record.Case, consent: bool, actor: str, now: float) -> case_record.Case:
    """The unit's word on its case page (同意公开展示 / 撤出成果展示); only on its own case as it was read."""
    with _refused_as_conflict():
        with db.transaction() as t:
            t.update(Case(case.id), actions=[Case.showcase_choice.set(consent)], label="case",
                     condition=((Case.owner_id == case.owner_id)
                                & _unchanged(Case.showcase_choice, case.showcase_choice)))
            t.save(audit.entry(f"case#{case.id}", actor, "showcase.consent" if consent else "showcase.withdraw", now,
                               before={"choice": case.showcase_choice}, after={"choice": consent}))
    return replace(case, showcase_choice=consent)


def set_hidden(case: case_record.Case, hidden: bool, reason: str | None, actor: str, now: float) -> case_record.Case:
    """The organiser's 从成果展示中撤下 (with its reason) or 恢复展示."""
    reason_action = (Case.showcase_hidden_reason.set(reason) if hidden and reason
                     else Case.showcase_hidden_reason.remove())
    with _refused_as_conflict():
        with db.transaction() as t:
            t.update(Case(case.id), actions=[Case.showcase_hidden.set(hidden), reason_action], label="case",
                     condition=Case.id.exists() & _unchanged(Case.showcase_hidden, case.showcase_hidden))
            t.save(audit.entry(f"case#{case.id}", actor, "showcase.hide" if hidden else "showcase.restore", now,
                               before={"hidden": case.showcase_hidden, "reason": case.showcase_hidden_reason},
                               after={"hidden": hidden, "reason": reason},
                               detail={"reason": reason} if reason else None))
    return replace(case, showcase_hidden=hidden, showcase_hidden_reason=reason if hidden else None)


def _refused_as_conflict() -> AbstractContextManager[None]:
    return db.refused_as(VersionConflict("成果展示的设置已在别处被修改，请刷新页面后再操作"))


class ShowcaseRepository:
    """The awarded cases as the showcase reads them, and its two marks, in DynamoDB."""

    def awarded(self, competition_id: str) -> list[ShownCase]:
        return [ShownCase(c.id, c.status, frozen_map(json.loads(c.body or "{}")), c.prize, c.showcase_choice,
                          c.showcase_hidden) for c in awarded(competition_id)]

    def set_choice(self, case: case_record.Case, consent: bool, actor: str, now: datetime) -> case_record.Case:
        return set_choice(case, consent, actor, epoch(now))

    def set_hidden(self, case: case_record.Case, hidden: bool, reason: str | None, actor: str,
                   now: datetime) -> case_record.Case:
        return set_hidden(case, hidden, reason, actor, epoch(now))
