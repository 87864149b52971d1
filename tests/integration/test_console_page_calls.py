"""The dashboard and the ranking page read what they show once: the case summaries in one Query (no case
bodies on the dashboard: the category is the index key's prefix), each category's score slots once for both
the ranking and the fairness report, no Scan, and the same calls for 3 cases as for 12 (counts, not times)."""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.client import BaseClient

from tests.integration.test_admin_pages import log_in, submit

CATEGORIES = ("development", "service", "empowerment")


class Calls:
    def __init__(self) -> None:
        self.made: list[tuple[str, str, dict[str, Any]]] = []

    def ops(self) -> Counter:
        return Counter(f"{service}.{op}" for service, op, _ in self.made)

    def queries(self, index: str) -> list[dict[str, Any]]:
        return [p for _, op, p in self.made if op == "Query" and p.get("IndexName") == index]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    found = Calls()
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict) -> Any:
        found.made.append((self.meta.service_model.service_name, operation_name, api_params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return found


def visit(browser, path: str, calls: Calls) -> Calls:
    """The calls of one page request."""
    calls.made.clear()
    response = browser.get(path)
    assert response.status_code == 200, response.body[:300]
    one = Calls()
    one.made = list(calls.made)
    return one


def projected(query: dict[str, Any]) -> list[str]:
    """The attributes a Query asked for (its ProjectionExpression, names resolved)."""
    names = query.get("ExpressionAttributeNames", {})
    return sorted(names.get(token.strip(), token.strip()) for token in query["ProjectionExpression"].split(","))


def file_cases(api, start: int, count: int) -> None:
    for n in range(start, start + count):
        submit(api, n, category=CATEGORIES[n % 3], title=f"案例{n}", recommending_unit=f"单位{n}")


def test_the_dashboard_reads_case_summaries_once_and_the_same_calls_at_any_size(client, api, calls):
    browser, _ = log_in(client)
    file_cases(api, 1, 3)
    small = visit(browser, "/admin", calls)
    file_cases(api, 4, 9)
    large = visit(browser, "/admin", calls)
    assert small.ops() == large.ops()
    # the session (Get); the stage windows, the case summaries, the unit accounts, the judges, and the slot
    # states of 3 judged stages x 3 categories (Queries); 赛前辅导's only where a case is recommended (none here)
    assert large.ops() == Counter({"dynamodb.GetItem": 1, "dynamodb.Query": 13})
    [cases] = large.queries("by_competition")
    assert projected(cases) == ["category_key", "id", "owner_id", "provincial", "review_decision", "status",
                                "submitted_at"]
    slots = large.queries("by_stage_category")
    assert len(slots) == 9 and all(projected(q) == ["judge_id", "recused", "scored"]
                                   for q in slots)


def test_the_ranking_page_reads_cases_and_scores_once_for_ranking_and_fairness(client, api, calls):
    browser, _ = log_in(client)
    file_cases(api, 1, 3)
    small = visit(browser, "/admin/rankings/text_review", calls)
    file_cases(api, 4, 9)
    large = visit(browser, "/admin/rankings/text_review", calls)
    assert small.ops() == large.ops()
    # the session (Get); the stage's row with its categories' stored rankings (1 BatchGet); the cases,
    # 3 categories' score slots, the judges, the stage windows (whether the 加评 form is offered) (Queries)
    assert large.ops() == Counter({"dynamodb.GetItem": 1, "dynamodb.BatchGetItem": 1, "dynamodb.Query": 6})
    [cases] = large.queries("by_competition")
    assert projected(cases) == ["body", "category_key", "id", "provincial",
                                                                   "status"]
    slots = large.queries("by_stage_category")
    assert sorted(q["ExpressionAttributeValues"][":0"]["S"] for q in slots) == [
        f"shenzhen-2023#text_review#{c}" for c in sorted(CATEGORIES)]
    assert all(projected(q) == ["case_judge", "criteria", "source"] for q in slots)
    assert all(q["FilterExpression"] for q in slots)
    assert not [op for op in large.ops() if op.endswith("Scan")]


def test_the_review_page_reads_the_cases_in_one_query_and_the_same_calls_at_any_size(client, api, calls, clock):
    from datetime import datetime

    from tests.conftest import CHINA
    file_cases(api, 1, 3)
    clock.set(datetime(2023, 6, 10, 9, 0, tzinfo=CHINA))
    browser, _ = log_in(client)
    small = visit(browser, "/admin/review", calls)
    clock.set(datetime(2023, 6, 1, 10, 0, tzinfo=CHINA))
    file_cases(api, 4, 9)
    clock.set(datetime(2023, 6, 10, 9, 0, tzinfo=CHINA))
    browser, _ = log_in(client)
    large = visit(browser, "/admin/review", calls)
    assert small.ops() == large.ops()
    # the session (Get); the stage windows, the cases (read once for the list and the originality report),
    # how many archived cases there are and the competitions' list (the originality corpus takes the cases of
    # every earlier one: one more Query each, none here) (Queries); the report's stored index and cached flags,
    # written anew when the cases changed (S3)
    assert large.ops() == {"dynamodb.GetItem": 1, "dynamodb.Query": 4,
                           "s3.HeadObject": 1, "s3.GetObject": 1, "s3.PutObject": 1}
    assert [q["KeyConditionExpression"] for q in large.queries("by_competition")] == ["#0 = :0"]
    assert not [op for op in large.ops() if op.endswith("Scan")]
