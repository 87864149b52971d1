"""The key shapes of the rows that belong to a competition: one function per shape, so a format lives here only.

Many competitions share the tables (issue 17): a copied competition has the same stage ids, may have the same
categories and units, and may even have judges with the same ids, so every key that names a stage, a judge's
slot or link, or a stage-level audit trail starts with the competition's id. Keys of objects whose ids are
unique across competitions (a case, an account, an export job, a certificate's code) need none. Competition
ids never hold "#" (domain/competition_edit validates them), so a key splits back unambiguously.

The shapes before issue 17 are in scripts/migrate_competition_keys.py, which moves a stack's rows into these.
"""
from __future__ import annotations

from ..domain.judging_record import judge_audit_key


def slot(competition_id: str, stage: str, judge_id: str) -> str:
    """A judge's slots of a stage (Assignment's hash key): "<competition>#<stage>#<judge id>"."""
    return f"{competition_id}#{stage}#{judge_id}"


def stage_category(competition_id: str, stage: str, category: str) -> str:
    """A category's slots of a stage (Assignment's by_stage_category index): "<competition>#<stage>#<category>"."""
    return f"{competition_id}#{stage}#{category}"


def case_judge(case_id: str, judge_id: str) -> str:
    """A slot's range key in by_stage_category: "<case id>#<judge id>" (case ids are unique)."""
    return f"{case_id}#{judge_id}"


def link(competition_id: str, judge_id: str, stage: str) -> str:
    """A judge's scoring link for a stage (Link's hash key): "<competition>#<judge id>#<stage>"."""
    return f"{competition_id}#{judge_id}#{stage}"


def link_parts(key: str) -> tuple[str, str, str]:
    """(competition, judge id, stage) of a link key."""
    competition_id, _, rest = key.partition("#")
    judge_id, _, stage = rest.rpartition("#")
    return competition_id, judge_id, stage


# -- audit trails (AuditEntry's object_key) of a competition's objects ------------------------------------
def stage_audit(competition_id: str, stage: str) -> str:
    """A stage's window and close: "stage#<competition>#<stage>"."""
    return f"stage#{competition_id}#{stage}"


def assignments_audit(competition_id: str, stage: str) -> str:
    """A stage's assignment plans and overrides: "assignments#<competition>#<stage>"."""
    return f"assignments#{competition_id}#{stage}"


def links_audit(competition_id: str, stage: str) -> str:
    """Links of a stage shown to an organiser: "links#<competition>#<stage>"."""
    return f"links#{competition_id}#{stage}"


def judge_audit(competition_id: str, judge_id: str) -> str:
    """A judge's record, links and sessions: "judge#<competition>#<judge id>"."""
    return judge_audit_key(competition_id, judge_id)


def case_audit(case_id: str) -> str:
    """A case's trail: "case#<case id>" (case ids are unique across competitions)."""
    return f"case#{case_id}"
