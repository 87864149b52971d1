"""A small competition run to the end over the API, for the export and mail tests.

Six development cases and two service cases, three judges per category; text review and final scored
and closed. Development: case i (0-based) scores 90 - i in both rounds, so the final gives ranks 1–5
一等奖 and 6 二等奖; service: two cases, both 一等奖. Titles and units include text that looks like a
spreadsheet formula (formula injection must stay inert in every export).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

import pytest

from tests.conftest import CHINA, Api, case_body, create_aws_resources, register_unit, start_competition
from tests.integration.test_judging_api import organiser

DEVELOPMENT = [
    ("=HYPERLINK(\"http://evil.example\",\"点我\")", "@SUM(1+1)单位"),
    ("党建引领数字政府建设", "深圳市政务服务数据管理局"),
    ("+“红色物业”融入基层治理", "深圳市住房和建设局"),
    ("-机关党建与业务深度融合", "深圳市财政局"),
    ("党建赋能营商环境优化", "深圳市市场监督管理局"),
    ("“先锋驿站”服务新就业群体", "深圳市人力资源和社会保障局"),
]
SERVICE = [
    ("“一网统管”提升城市治理效能", "深圳市城市管理和综合执法局"),
    ("党员志愿服务进社区", "深圳市民政局"),
]
LEADERS = ["李明", "王芳", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏"]


@dataclass
class Finished:
    org: Api
    ids: dict[str, list[str]] = field(default_factory=dict)         # category -> case ids, best first
    titles: dict[str, str] = field(default_factory=dict)            # case id -> title
    units: dict[str, str] = field(default_factory=dict)             # case id -> recommending unit
    emails: dict[str, str] = field(default_factory=dict)            # case id -> the unit account's email
    clock: object = None                                            # the test clock (tests/conftest.py Clock)


def _register(api: Api, n: int, unit: str) -> Api:
    return api.as_(register_unit(api, n, unit_name=f"{unit}（帐号{n}）", email=f"unit{n}@example.gov.cn"))


def _judges(org: Api, category: str, first: int) -> None:
    for n in range(first, first + 3):
        status, body = org.call("POST", "/admin/judges", {
            "name": f"评委{n}", "email": f"judge{n}@example.org", "affiliation": f"评审机构{n}",
            "categories": [category]})
        assert status == 201, body


CRITERIA = {"development": ("foresight", "practicality", "effectiveness"),
            "service": ("targeting", "mechanism", "effectiveness")}


def _score(api: Api, org: Api, stage: str, totals: dict[str, float], categories: dict[str, str]) -> None:
    """Every judge scores every assigned case: 27 + 27 + the rest, judges 0.5 apart (-0.5, 0, +0.5)."""
    numbers = {j["id"]: int(j["name"][2:]) for j in org.call("GET", "/admin/judges")[1]["judges"]}
    links = org.call("POST", f"/admin/stages/{stage}/links")[1]["links"]
    for link in links:
        offset = ((numbers[link["judge_id"]] - 1) % 3 - 1) * 0.5      # 评委1/4: -0.5, 评委2/5: 0, 评委3/6: +0.5
        token = api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"]
        judge = api.as_(token)
        for case in judge.call("GET", "/judge/cases")[1]["cases"]:
            first, second, rest = CRITERIA[categories[case["id"]]]
            total = totals[case["id"]] + offset
            sheet = {first: 27.0, second: 27.0, rest: total - 54}
            status, body = judge.call("PUT", f"/judge/cases/{case['id']}/score",
                                      {"criteria": sheet, "comment": "=1+1 评语"})
            assert status == 200, body


COACHING_POINT = "专家辅导：请补充量化成效"


def _coach(api: Api, org: Api) -> None:
    """专家辅导: one expert per advanced case, each gives one point of feedback (no score)."""
    status, body = org.call("POST", "/admin/stages/coaching/assignments", {})
    assert status == 200, body
    for link in org.call("POST", "/admin/stages/coaching/links")[1]["links"]:
        expert = api.as_(api.call("POST", "/judge/sessions", {"link": link["url"].rsplit("/j/", 1)[1]})[1]["token"])
        for case in expert.call("GET", "/judge/cases")[1]["cases"]:
            status, body = expert.call("PUT", f"/judge/cases/{case['id']}/feedback", {"points": [COACHING_POINT]})
            assert status == 200, body


def run_to_final(api: Api, clock, coached: bool = False) -> Finished:
    done = Finished(org=None, clock=clock)  # type: ignore[arg-type]
    n = 0
    for category, entries in (("development", DEVELOPMENT), ("service", SERVICE)):
        done.ids[category] = []
        for title, unit in entries:
            n += 1
            unit_api = _register(api, n, unit)
            leader = {"name": LEADERS[n - 1], "position": "科长", "office_phone": "88134324",
                      "mobile": f"139{n:08d}", "gender": "female" if n % 2 else "male",
                      "rank_level": "section_or_below", "birth_date": "1990-01-01"}
            status, case = unit_api.call("POST", "/cases", case_body(category=category, title=title,
                                                                     recommending_unit=unit, leader=leader))
            assert status == 201, case
            assert unit_api.call("POST", f"/cases/{case['id']}/submit")[0] == 200
            done.ids[category].append(case["id"])
            done.titles[case["id"]] = title
            done.units[case["id"]] = unit
            done.emails[case["id"]] = f"unit{n}@example.gov.cn"
    # a unit that only has a draft (registrations export, deadline reminders)
    drafter = _register(api, 99, "深圳市草稿局")
    assert drafter.call("POST", "/cases", case_body(title="未提交的草稿"))[0] == 201

    clock.set(datetime(2023, 6, 12, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    done.org = org
    _judges(org, "development", 1)
    _judges(org, "service", 4)
    status, body = org.call("POST", "/admin/stages/text_review/assignments", {"judges_per_case": 3})
    assert status == 200, body
    totals = {cid: 90 - i for ids in done.ids.values() for i, cid in enumerate(ids)}
    categories = {cid: category for category, ids in done.ids.items() for cid in ids}
    _score(api, org, "text_review", totals, categories)
    assert org.call("POST", "/admin/stages/text_review/close")[0] == 200
    _run_schedules()   # the result mail goes out from the 5-minute schedule, as EventBridge would run it
    if coached:
        clock.set(datetime(2023, 6, 18, 9, 0, tzinfo=CHINA))
        _coach(api, organiser(api))

    clock.set(datetime(2023, 6, 25, 9, 0, tzinfo=CHINA))
    org = organiser(api)
    done.org = org
    status, body = org.call("POST", "/admin/stages/final/assignments", {})
    assert status == 200, body
    _score(api, org, "final", totals, categories)
    assert org.call("POST", "/admin/stages/final/close")[0] == 200
    return done


def _run_schedules() -> None:
    from chalicelib.jobs import schedules
    schedules.close_due_stages()


@contextmanager
def finished_world(coached: bool = False) -> Iterator[tuple[Finished, object]]:
    """The emulated AWS of tests/conftest.py's `aws` + `clock` + `client` fixtures, once for a whole module,
    with the competition run to the end (it takes a while: the exports and mail tests share it).
    Exports run in the local world (ASYNC_MODE=poll). `coached`: 专家辅导 ran too (one point per case)."""
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import bootstrap

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("ASYNC_MODE", "poll")
        create_aws_resources()
        clock = start_competition()
        from app import app
        try:
            with Client(app) as client:
                yield run_to_final(Api(client), clock, coached), client
        finally:
            bootstrap.reset()
