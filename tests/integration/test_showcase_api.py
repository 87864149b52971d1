"""优秀案例展示 after the final (one finished competition for the module, tests/integration/finished_competition.py):
the public list and page show only awarded cases whose unit consented and the organiser did not take down,
grouped by category and prize, searchable, with none of the leaders' or contacts' personal data; the unit's
and the organiser's withdrawals with their permissions, audit rows and refusals; AWS calls per request."""
from __future__ import annotations

import html as htmllib
import json
import re

import pytest

from benchmarks.aws_calls import Meter
from tests.browser import csrf_of
from tests.conftest import Api
from tests.integration.finished_competition import LEADERS, finished_world

CONTACT = ("王五", "13712345678", "88134324", "科员")      # tests/conftest.case_body's contact
PERSONAL = (*LEADERS, *(f"139{n:08d}" for n in range(1, 9)), "1990-01-01", "1990年1月1日", "female", "male", "性别",
            "科长", "section_or_below", "科级及以下", *CONTACT, "牵头人", "联系人")


@pytest.fixture(scope="module")
def world():
    with finished_world() as shared:
        yield shared


@pytest.fixture(scope="module")
def units(world):
    """Each case's unit session (the finished competition registered unit n for its n-th case)."""
    finished, client = world
    api = Api(client)
    ordered = [*finished.ids["development"], *finished.ids["service"]]
    sessions = {}
    for n, case_id in enumerate(ordered, start=1):
        status, data = api.call("POST", "/sessions", {"username": f"unit{n}", "password": "correct-horse-1"})
        assert status == 200, data
        sessions[case_id] = api.as_(data["token"])
    return sessions


@pytest.fixture(scope="module")
def consented(world, units):
    """Every awarded case consents on its case page, but development's sixth (二等奖) and service's second."""
    finished = world[0]
    dev, svc = finished.ids["development"], finished.ids["service"]
    for case_id in [*dev[:5], svc[0]]:
        status, body = units[case_id].call("PUT", f"/cases/{case_id}/showcase", {"consent": True})
        assert (status, body) == (200, {"case_id": case_id, "consent": True, "hidden": False, "reason": None,
                                        "shown": True}), body
    return finished


def shown(api: Api, query: str = "") -> dict:
    status, data = api.call("GET", "/showcase" + query)
    assert status == 200, data
    return data


def test_only_consented_awarded_cases_are_listed_by_category_then_prize_then_rank(world, consented):
    data = shown(Api(world[1]))
    dev, svc = consented.ids["development"], consented.ids["service"]
    expected = [*dev[:5], svc[0]]          # the final's rank within each prize
    assert (data["open"], data["count"], data["total"]) == (True, 6, 6)
    assert [c["id"] for c in data["cases"]] == expected
    first = next(c for c in data["cases"] if c["id"] == dev[1])
    assert first == {"id": dev[1], "title": "党建引领数字政府建设", "unit": "深圳市政务服务数据管理局",
                     "category": "development", "category_name": "发展提质", "prize": "first", "prize_name": "一等奖",
                     "background": "背景介绍。" * 20, "innovations": ["创新点一", "创新点二"], "results": ["成果一"]}


def test_the_sixth_case_shows_under_its_second_prize_once_it_consents(world, consented, units):
    sixth = consented.ids["development"][5]
    assert units[sixth].call("PUT", f"/cases/{sixth}/showcase", {"consent": True})[0] == 200
    data = shown(Api(world[1]), "?category=development")
    assert [(c["id"], c["prize_name"]) for c in data["cases"]][-1] == (sixth, "二等奖")
    page = world[1].http.get("/showcase?category=development").body.decode()
    assert page.index("一等奖") < page.index("二等奖") and "case-" + sixth in page
    assert units[sixth].call("PUT", f"/cases/{sixth}/showcase", {"consent": False})[1]["shown"] is False
    assert sixth not in [c["id"] for c in shown(Api(world[1]))["cases"]]


def test_no_personal_data_in_the_json_or_the_page(world, consented):
    raw = json.dumps(shown(Api(world[1])), ensure_ascii=False)
    page = world[1].http.get("/showcase").body.decode()
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", page))
    assert [p for p in PERSONAL if p in raw] == []
    assert [p for p in PERSONAL if p in page or p in text] == []
    assert set(shown(Api(world[1]))["cases"][0]) == {"id", "title", "unit", "category", "category_name", "prize",
                                                     "prize_name", "background", "innovations", "results"}


def test_search_by_keyword_and_category(world, consented):
    api = Api(world[1])
    dev, svc = consented.ids["development"], consented.ids["service"]
    assert [c["id"] for c in shown(api, "?q=%E6%95%B0%E5%AD%97%E6%94%BF%E5%BA%9C")["cases"]] == [dev[1]]   # 数字政府
    assert [c["id"] for c in shown(api, "?q=%E4%B8%80%E7%BD%91+%E5%9F%8E%E5%B8%82")["cases"]] == [svc[0]]  # 一网 城市
    assert shown(api, "?category=service")["count"] == 1
    assert shown(api, "?category=service&q=%E6%95%B0%E5%AD%97")["count"] == 0
    page = world[1].http.get("/showcase?q=%E6%95%B0%E5%AD%97%E6%94%BF%E5%BA%9C").body.decode()
    assert "找到 <strong>1</strong> 个符合条件的案例（共展示 6 个）" in page
    assert 'value="数字政府"' in page
    empty = world[1].http.get("/showcase?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E8%AF%8D").body.decode()
    assert "没有找到符合条件的案例" in empty and 'href="/showcase"' in empty


def test_bad_search_input_is_a_400_naming_the_field(world, consented):
    api = Api(world[1])
    status, body = api.call("GET", "/showcase?category=sports")
    assert (status, body["error"]["code"], list(body["error"]["fields"])) == (400, "invalid", ["category"])
    status, body = api.call("GET", "/showcase?q=" + "词" * 51)
    assert (status, list(body["error"]["fields"])) == (400, ["q"])
    assert "关键词不能超过50个字" in body["error"]["message"]
    response = world[1].http.get("/showcase?category=sports")
    assert response.status_code == 400 and "案例类别只能选择" in response.body.decode()


def test_titles_that_look_like_markup_or_formulas_stay_text(world, consented):
    page = world[1].http.get("/showcase").body.decode()
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;点我&#34;)" in page or \
        "=HYPERLINK(&quot;http://evil.example&quot;" in page
    assert '<a href="http://evil.example"' not in page


def test_the_organiser_takes_a_case_down_with_a_reason_and_puts_it_back(world, consented):
    org, case_id = consented.org, consented.ids["development"][2]
    status, body = org.call("PUT", f"/admin/cases/{case_id}/showcase", {"shown": False})
    assert (status, body["error"]["fields"]) == (400, {"reason": "请填写撤下原因"})
    status, body = org.call("PUT", f"/admin/cases/{case_id}/showcase", {"shown": "no", "reason": "x"})
    assert (status, list(body["error"]["fields"])) == (400, ["shown"])
    status, body = org.call("PUT", f"/admin/cases/{case_id}/showcase", {"shown": False, "reason": "案例内容待核实"})
    assert (status, body) == (200, {"case_id": case_id, "consent": True, "hidden": True, "reason": "案例内容待核实",
                                    "shown": False})
    assert case_id not in [c["id"] for c in shown(Api(world[1]))["cases"]]
    view = org.call("GET", f"/cases/{case_id}")[1]
    assert view["showcase"] == {"consent": True, "hidden": True, "reason": "案例内容待核实", "shown": False}
    status, body = org.call("PUT", f"/admin/cases/{case_id}/showcase", {"shown": True})
    assert (status, body["shown"], body["reason"]) == (200, True, None)
    assert case_id in [c["id"] for c in shown(Api(world[1]))["cases"]]
    status, body = org.call("PUT", "/admin/cases/no-such-case/showcase", {"shown": True})
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_every_change_is_in_the_case_trail(world, consented):
    from chalicelib.store import audit
    case_id = consented.ids["development"][2]
    rows = [e for e in audit.history(f"case#{case_id}") if e.action.startswith("showcase.")]
    # the test clock stands still: the rows share one millisecond, so their order is not asserted
    assert sorted((e.action, e.actor) for e in rows) == [
        ("showcase.consent", "unit:unit3"), ("showcase.hide", "organiser:boss"),
        ("showcase.restore", "organiser:boss")]
    assert [json.loads(e.detail) for e in rows if e.action == "showcase.hide"] == [{"reason": "案例内容待核实"}]
    token = consented.org.token
    page = world[1].http.get(f"/admin/cases/{case_id}", headers={"Cookie": f"sp_session={token}"}).body.decode()
    assert "单位同意公开展示" in page and "从成果展示中撤下" in page and "恢复成果展示" in page


def test_another_unit_a_judge_or_the_organiser_cannot_change_a_units_consent(world, consented, units):
    dev = consented.ids["development"]
    other = units[dev[4]]
    status, body = other.call("PUT", f"/cases/{dev[0]}/showcase", {"consent": False})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = consented.org.call("PUT", f"/cases/{dev[0]}/showcase", {"consent": False})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = units[dev[0]].call("PUT", f"/admin/cases/{dev[0]}/showcase", {"shown": True})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = Api(world[1]).call("PUT", f"/cases/{dev[0]}/showcase", {"consent": False})
    assert (status, body["error"]["code"]) == (401, "unauthenticated")
    status, body = units[dev[0]].call("PUT", "/cases/no-such-case/showcase", {"consent": False})
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = units[dev[0]].call("PUT", f"/cases/{dev[0]}/showcase", {"consent": "yes"})
    assert (status, body["error"]["fields"]) == (400, {"consent": "应为 true 或 false"})
    assert dev[0] in [c["id"] for c in shown(Api(world[1]))["cases"]]


def test_the_unit_withdraws_on_its_case_page(world, consented, units):
    case_id = consented.ids["service"][0]
    client, token = world[1], units[case_id].token
    cookie = {"Cookie": f"sp_session={token}"}
    page = client.http.get(f"/cases/{case_id}", headers=cookie).body.decode()
    assert "撤出成果展示" in page and f'href="/showcase#case-{case_id}"' in page
    form = f"csrf_token={csrf_of(page)}&consent=0"
    response = client.http.post(f"/cases/{case_id}/showcase", body=form.encode(), headers={
        **cookie, "Content-Type": "application/x-www-form-urlencoded"})
    assert (response.status_code, response.headers["Location"]) == (303, f"/cases/{case_id}?done=showcase_out")
    page = client.http.get(f"/cases/{case_id}?done=showcase_out", headers=cookie).body.decode()
    assert "已撤出成果展示。" in page and "同意公开展示" in page
    assert case_id not in [c["id"] for c in shown(Api(client))["cases"]]
    forged = client.http.post(f"/cases/{case_id}/showcase", body=b"csrf_token=forged&consent=1", headers={
        **cookie, "Content-Type": "application/x-www-form-urlencoded"})
    assert forged.status_code == 403
    assert case_id not in [c["id"] for c in shown(Api(client))["cases"]]


def test_the_organiser_takes_a_case_down_on_the_console_page(world, consented):
    client, case_id = world[1], consented.ids["development"][3]
    cookie = {"Cookie": f"sp_session={consented.org.token}"}
    page = client.http.get(f"/admin/cases/{case_id}", headers=cookie).body.decode()
    headers = {**cookie, "Content-Type": "application/x-www-form-urlencoded"}
    refused = client.http.post(f"/admin/cases/{case_id}/showcase", headers=headers,
                               body=f"csrf_token={csrf_of(page)}&shown=0&reason=".encode())
    assert refused.status_code == 400 and "请填写撤下原因" in refused.body.decode()
    done = client.http.post(f"/admin/cases/{case_id}/showcase", headers=headers,
                            body=f"csrf_token={csrf_of(page)}&shown=0&reason=%E5%BE%85%E6%A0%B8%E5%AE%9E".encode())
    assert (done.status_code, done.headers["Location"]) == (303, f"/admin/cases/{case_id}?done=showcase")
    page = client.http.get(f"/admin/cases/{case_id}?done=showcase", headers=cookie).body.decode()
    assert "成果展示设置已保存。" in page and "已由主办单位撤下，原因：待核实" in page and "恢复成果展示" in page
    assert case_id not in [c["id"] for c in shown(Api(client))["cases"]]


def test_the_list_is_one_batch_get_and_one_query_and_no_scan(world, consented):
    """The final's stage row with its stored rankings (one BatchGetItem), the awarded cases (one Query)."""
    meter = Meter()
    meter.attach_app()
    api = Api(world[1])
    with meter.measure() as tally:
        shown(api, "?q=%E5%85%9A%E5%BB%BA")
    with meter.measure() as page_tally:
        assert world[1].http.get("/showcase").status_code == 200
    assert dict(tally.by_service("dynamodb")) == {"BatchGetItem": 1, "Query": 1}
    assert dict(page_tally.by_service("dynamodb")) == {"BatchGetItem": 1, "Query": 1}


def test_the_home_page_links_the_showcase(world):
    page = world[1].http.get("/").body.decode()
    assert '<a href="/showcase">优秀案例展示</a>' in page
