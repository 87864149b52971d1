"""A unit's 2023 case after 2024 has become the current competition: its 荣誉证书, its 专家辅导 feedback and its
replies are 2023's (2023's final, prize names and coaching window), not the current competition's.

The 2023 competition of tests/integration/finished_competition.py (coached: one 专家辅导 point per advanced case)
is run to its end; then 2024 is copied from it in the service (as the console does), started and made current."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.browser import Browser, csrf_of, text
from tests.conftest import Api
from tests.integration.finished_competition import COACHING_POINT, finished_world

NEXT = "shenzhen-2024"


@pytest.fixture(scope="module")
def world():
    with finished_world(coached=True) as shared:
        _make_2024_current()
        yield shared


def _make_2024_current() -> None:
    from chalicelib import bootstrap
    from chalicelib.services import competitions
    from chalicelib.services.accounts import Principal

    admin = Principal("organiser", "t1", account_id="org1", username="admin", organiser_role="admin")
    deps, now = bootstrap.deps(), bootstrap.now()
    copied = competitions.copy_from(deps.competitions, admin, "shenzhen-2023", NEXT, now)
    competitions.start(deps.competitions, admin, NEXT, copied.version, [], now)
    competitions.activate_with_stages(deps.competitions, deps.stages, admin, NEXT, now)
    assert bootstrap.competition().id == NEXT


def _unit(client, n: int) -> Browser:
    browser = Browser(client)
    csrf = csrf_of(text(browser.get("/login")))
    response = browser.post("/login", {"csrf_token": csrf, "username": f"unit{n}", "password": "correct-horse-1"})
    assert (response.status_code, response.headers["Location"]) == (303, "/cases")
    return browser


def test_the_2023_certificate_is_2023s_after_2024_is_current(world):
    from chalicelib import bootstrap
    finished, client = world
    case_id = finished.ids["development"][5]                     # rank 6: 二等奖 in 2023
    unit = _unit(client, 6)
    listing = text(unit.get("/cases"))
    assert "往届案例" in listing and finished.titles[case_id] in listing
    response = unit.get(f"/cases/{case_id}/certificate")
    assert response.status_code == 302, text(response)
    location = response.headers["Location"]
    assert f"certificates/shenzhen-2023/{case_id}-" in location
    key = location.split("?")[0].split(f"/{bootstrap.config().bucket}/", 1)[-1]
    key = key[key.index("certificates/"):]
    pdf = bootstrap.s3().get_object(Bucket=bootstrap.config().bucket, Key=key)["Body"].read()
    flat = "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\x00", "").split())
    assert "发展提质类二等奖" in flat and finished.titles[case_id] in flat and "2023年6月25日" in flat


def test_the_2023_feedback_and_its_window_are_2023s_after_2024_is_current(world):
    from chalicelib import bootstrap
    from chalicelib.domain.competition import StageId, format_time
    finished, client = world
    case_id = finished.ids["development"][0]
    old = bootstrap.competition_by_id("shenzhen-2023")
    coaching_2023 = next(w for w in old.default_windows if w.id == StageId.COACHING)

    unit = _unit(client, 1)
    page = text(unit.get(f"/cases/{case_id}/feedback"))
    assert COACHING_POINT in page

    api = Api(client)
    token = api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})[1]["token"]
    status, view = api.as_(token).call("GET", f"/cases/{case_id}/feedback/replies")
    assert status == 200, view
    assert view["coaching"]["opens_at"] == format_time(coaching_2023.opens_at)
    assert view["coaching"]["status"] == "closed" and view["can_reply"] is False
    point = view["feedback"][0]["points"][0]
    assert point["text"] == COACHING_POINT
    status, refused = api.as_(token).call("PUT", f"/cases/{case_id}/feedback/replies",
                                          {"replies": {point["key"]: "已补充"}})
    assert status == 409 and refused["error"]["code"] == "stage_closed", refused    # 2023's window has closed
