"""省赛准备 on a competition that has not finished: no recommendation before the final closed."""
from __future__ import annotations

import pytest

from tests.integration.test_judge_pages import organiser, set_status, submitted_cases


@pytest.fixture(autouse=True)
def poll_mode(monkeypatch):
    monkeypatch.setenv("ASYNC_MODE", "poll")


def test_no_recommendation_before_the_final_closed(api, clock):
    cases, _ = submitted_cases(api, 1)
    set_status(cases, "awarded")
    org, _ = organiser(api)
    status, refused = org.call("PUT", f"/admin/cases/{cases[0]}/recommendation", {"recommended": True, "reason": "好"})
    assert (status, refused["error"]["code"], refused["error"]["message"]) == (
        409, "conflict", "综合评选结束并评出奖项后，才能推荐参加省赛")
    status, job = org.call("POST", "/admin/exports", {"kind": "provincial_list_xlsx"})
    assert status == 202
    from scripts import local_jobs
    local_jobs.run_queued_exports()
    status, view = org.call("GET", f"/admin/exports/{job['id']}")
    assert (view["status"], view["error"]) == ("failed", "综合评选结束后才能生成省赛推荐名单")
