"""往届竞赛 in a browser at 390 px and 1280 px: the home page lists an earlier competition below the current one,
and its page (/competitions/{id}) opens with its name and year. The earlier competition is put into the local
stack's competitions table the way the console will (a record of the table), through the emulator.
Screenshots: /tmp/shots-archive/*.png."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, fresh_page

SHOTS = Path("/tmp/shots-archive")
NAME = "2022年深圳市机关创新创优案例评选"
PUT = """
from chalicelib import bootstrap, competitions as configs
from chalicelib.domain.competition_record import new_record
repo = bootstrap.deps().competitions
if repo.get("shenzhen-2022") is None:
    d = {**configs.load("shenzhen-2023"), "id": "shenzhen-2022", "name": %r, "year": 2022, "state": "running"}
    repo.create(new_record(d, "organiser:e2e", 0.0), "organiser:e2e", 0.0)
"""


@pytest.fixture(scope="module")
def earlier(stack):
    if not stack.emulator:
        pytest.skip("needs the stack's emulator (SAIPING_E2E_EMULATOR)")
    from scripts.run_local import _env
    env = {**os.environ, **_env(), "AWS_ENDPOINT_URL": stack.emulator}   # the stack's own settings
    subprocess.run([sys.executable, "-c", PUT % NAME], cwd=ROOT, env=env, check=True, timeout=60)
    return "shenzhen-2022"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_home_page_lists_an_earlier_competition_and_its_page_opens(browser, stack, earlier, width):
    SHOTS.mkdir(exist_ok=True)
    for page in fresh_page(browser, stack, viewport={"width": width, "height": 900}):
        page.goto("/")
        section = page.locator("section.earlier")
        section.get_by_role("heading", name="往届竞赛").wait_for()
        link = section.get_by_role("link", name=NAME)
        assert link.get_attribute("href") == f"/competitions/{earlier}"
        assert "2022 年" in section.inner_text()
        link.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"home-{width}.png"), full_page=True)
        link.click()
        page.wait_for_url(f"**/competitions/{earlier}")
        assert page.get_by_role("heading", level=1).inner_text() == NAME
        assert "2022 年" in page.locator("p.lead").inner_text()
        page.get_by_role("heading", name="评选结果").wait_for()
        page.screenshot(path=str(SHOTS / f"competition-{width}.png"), full_page=True)
        widest = page.evaluate("document.documentElement.scrollWidth")
        assert widest <= width, f"the page is {widest} px wide at {width} px"
