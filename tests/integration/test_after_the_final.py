"""After the final, on one finished competition (tests/integration/finished_competition.py, shared by the
whole module): every export requested, run, polled, downloaded and opened — workbooks cell by cell, the
certificates' text and one page as a picture, the award list; a retried or doubled invocation builds once;
the public certificate check; award mail sent twice reaches each awarded case once, parsed as mail."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from statistics import mean

from tests.conftest import fixed_clock
from chalicelib.domain.clock import epoch
import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.integration.finished_competition import LEADERS, finished_world
from tests.integration.mailbox import bodies, check_headers, links, ses_messages
from tests.integration.test_exports_api import HOSTS, assert_no_formulas, assert_sheet_layout, export, run_jobs


@pytest.fixture(scope="module")
def world():
    with finished_world() as shared:
        yield shared


@pytest.fixture
def finished(world):
    return world[0]


@pytest.fixture
def client(world):
    return world[1]


def test_results_workbook_cell_by_cell(finished):
    recommended = finished.ids["development"][1]        # the organiser's 推荐省赛 mark
    assert finished.org.call("PUT", f"/admin/cases/{recommended}/provincial", {"recommended": True})[0] == 200
    view, data = export(finished.org, "results_xlsx")
    assert_no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["发展提质", "服务增效", "党建赋能"]
    headers = ("名次", "案例名称", "推荐单位", "牵头人", "得分", "奖项", "入围", "推荐省赛", "排名依据")
    expected = {
        "发展提质": [(i + 1, finished.titles[cid], finished.units[cid], LEADERS[i], 90 - i,
                   "一等奖" if i < 5 else "二等奖", "是", "是" if cid == recommended else "否", "综合评选")
                  for i, cid in enumerate(finished.ids["development"])],
        "服务增效": [(i + 1, finished.titles[cid], finished.units[cid], LEADERS[6 + i], 90 - i, "一等奖", "是", "否",
                   "综合评选") for i, cid in enumerate(finished.ids["service"])],
        "党建赋能": [],
    }
    for name, rows in expected.items():
        ws = wb[name]
        assert_sheet_layout(ws, headers)
        assert "综合评选结果" in ws.oddHeader.center.text
        assert [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)] == rows
        for row in ws.iter_rows(min_row=2, max_col=5):
            assert row[4].number_format == "0.00"
    injected = wb["发展提质"]["B2"]
    assert injected.value.startswith("=HYPERLINK") and injected.data_type == "s" and injected.quotePrefix
    assert wb["发展提质"]["C2"].value == "@SUM(1+1)单位" and wb["发展提质"]["C2"].quotePrefix
    assert wb["发展提质"]["B4"].value.startswith("+") and wb["发展提质"]["B4"].quotePrefix
    assert wb["发展提质"]["B5"].value.startswith("-") and wb["发展提质"]["B5"].quotePrefix
    assert not wb["发展提质"]["B3"].quotePrefix          # ordinary text stays ordinary


def test_scores_workbook_lets_an_outsider_recompute_the_ranking(finished):
    _, data = export(finished.org, "scores_xlsx")
    assert_no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["文本评审", "综合评选", "排名汇总", "说明"]
    headers = ("类别", "案例编号", "案例名称", "推荐单位", "评委编号", "评委", "前瞻性（满分30）", "实践性（满分30）",
               "成效性/实效性（满分40）", "针对性（满分30）", "机制性（满分30）", "创新性（满分30）", "推广性（满分30）",
               "合计", "状态", "计入排名", "评语")
    category_of = {cid: c for c, ids in finished.ids.items() for cid in ids}
    base = {cid: 90 - i for ids in finished.ids.values() for i, cid in enumerate(ids)}
    for stage in ("文本评审", "综合评选"):
        ws = wb[stage]
        assert_sheet_layout(ws, headers)
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        assert len(rows) == 8 * 3
        totals: dict[str, list[float]] = {}
        for row in rows:
            record = dict(zip(headers, row))
            cid = record["案例编号"]
            assert record["案例名称"] == finished.titles[cid] and record["推荐单位"] == finished.units[cid]
            assert record["类别"] == {"development": "发展提质", "service": "服务增效"}[category_of[cid]]
            assert record["评委"].startswith("评委") and record["状态"] == "已评" and record["计入排名"] == "是"
            assert record["评语"] == "=1+1 评语"
            own = ("前瞻性（满分30）", "实践性（满分30）") if category_of[cid] == "development" else \
                  ("针对性（满分30）", "机制性（满分30）")
            others = [h for h in headers[6:13] if h not in own and h != "成效性/实效性（满分40）"]
            assert [record[h] for h in own] == [27, 27] and [record[h] for h in others] == [None] * 4
            assert record["合计"] == pytest.approx(54 + record["成效性/实效性（满分40）"])
            assert record["合计"] - base[cid] in (-0.5, 0, 0.5)
            totals.setdefault(cid, []).append(record["合计"])
        # fewer than 5 scores: the plain mean (说明), which is the case's score in the results
        assert {cid: mean(v) for cid, v in totals.items()} == pytest.approx({cid: float(s) for cid, s in base.items()})
    summary = [dict(zip([c.value for c in wb["排名汇总"][1]], r)) for r in wb["排名汇总"].iter_rows(min_row=2, values_only=True)]
    assert len(summary) == 16
    final_dev = [s for s in summary if s["阶段"] == "综合评选" and s["类别"] == "发展提质"]
    assert [(s["名次"], s["案例编号"], s["得分（聚合）"], s["有效评分数"], s["结果"]) for s in final_dev] == [
        (i + 1, cid, 90 - i, 3, "一等奖" if i < 5 else "二等奖") for i, cid in enumerate(finished.ids["development"])]
    rules = {r[0]: r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert "去掉一个最高分和一个最低分" in rules["综合评选：聚合"]
    assert "第 1–5 名：一等奖" in rules["综合评选：奖项"]
    assert "前 15 名入围" in rules["文本评审：入围"]
    assert "7、7、9" in rules["排序与并列"]


def test_registrations_workbook_lists_accounts_and_cases(finished):
    _, data = export(finished.org, "registrations_xlsx")
    assert_no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["单位帐号", "案例"]
    accounts = wb["单位帐号"]
    assert_sheet_layout(accounts, ("用户名", "单位名称", "单位类型", "所属区", "联系人", "电子邮箱", "手机", "注册时间",
                                   "案例数", "已提交案例数"))
    rows = list(accounts.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [f"unit{n}" for n in range(1, 9)] + ["unit99"]
    assert rows[1] == ("unit2", "深圳市政务服务数据管理局（帐号2）", "市直", None, "张三", "unit2@example.gov.cn",
                       "13800138000", "2023年6月1日 10:00", 1, 1)
    assert rows[-1][1:] == ("深圳市草稿局（帐号99）", "市直", None, "张三", "unit99@example.gov.cn", "13800138000",
                            "2023年6月1日 10:00", 1, 0)
    cases = wb["案例"]
    headers = ("单位名称", "用户名", "案例编号", "案例名称", "类别", "推荐单位", "状态", "奖项", "提交时间", "牵头人",
               "牵头人手机", "联系人", "联系人手机", "字数")
    assert_sheet_layout(cases, headers)
    by_id = {r[2]: dict(zip(headers, r)) for r in cases.iter_rows(min_row=2, values_only=True)}
    assert len(by_id) == 9
    first = by_id[finished.ids["development"][0]]
    assert (first["案例名称"], first["状态"], first["奖项"], first["类别"], first["牵头人"], first["提交时间"]) == (
        finished.titles[finished.ids["development"][0]], "获奖", "一等奖", "发展提质", "李明", "2023年6月1日 10:00")
    assert cases.cell(row=2, column=4).quotePrefix   # the formula-looking title, as text
    draft = next(r for r in by_id.values() if r["案例名称"] == "未提交的草稿")
    assert (draft["状态"], draft["奖项"], draft["提交时间"], draft["用户名"]) == ("草稿", None, None, "unit99")


def test_certificates_pdf_one_page_per_award_with_a_verifiable_code(finished, client, tmp_path):
    _, data = export(finished.org, "certificates_pdf")
    reader = PdfReader(io.BytesIO(data))
    awarded = finished.ids["development"] + finished.ids["service"]
    assert len(reader.pages) == len(awarded) == 8
    page_size = reader.pages[0].mediabox
    assert (round(float(page_size.width)), round(float(page_size.height))) == (842, 595)   # A4 landscape, pt
    texts = [page.extract_text().replace("\x00", "") for page in reader.pages]
    flat = ["".join(t.split()) for t in texts]
    for text, cid in zip(flat, awarded):
        assert "荣誉证书" in text
        assert finished.units[cid] in text and "".join(finished.titles[cid].split()) in text
        assert all(host in text for host in HOSTS)
        assert "2023年6月25日" in text
    assert "发展提质类一等奖" in flat[0] and "发展提质类二等奖" in flat[5] and "服务增效类一等奖" in flat[6]
    fonts = {str(f) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts
    # every page's code opens the public check page with that case
    codes = []
    for text in texts:
        line = next(l for l in text.splitlines() if "证书验证码" in l)
        codes.append(line.split("：", 1)[1].strip())
    assert len(set(codes)) == 8
    page = client.http.get(f"/verify/{codes[1]}", headers={"Accept": "text/html"})
    html = page.body.decode()
    assert page.status_code == 200
    assert finished.titles[awarded[1]] in html and finished.units[awarded[1]] in html and "一等奖" in html
    lower = client.http.get(f"/verify/{codes[1].replace('-', '').lower()}", headers={"Accept": "text/html"})
    assert lower.status_code == 200
    missing = client.http.get("/verify/AAAA-BBBB-CCCC", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "未找到" in missing.body.decode()
    junk = client.http.get("/verify/%3Cscript%3E", headers={"Accept": "text/html"})
    assert junk.status_code == 404 and "<script>" not in junk.body.decode()
    # one page as a picture: the CJK glyphs must actually be drawn
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    pdf = tmp_path / "certificates.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image
    with Image.open(png) as image:
        assert image.size[0] > image.size[1]                           # landscape
        grey = image.convert("L")
        dark = sum(1 for v in grey.getdata() if v < 128)
        assert dark > 500                                              # text and frame were drawn


def test_award_list_docx_grouped_by_category_and_prize(finished):
    _, data = export(finished.org, "award_list_docx")
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs if p.text]
    dev, svc = finished.ids["development"], finished.ids["service"]
    line = lambda cid, n: f"{n}. {finished.titles[cid]}（{finished.units[cid]}）"  # noqa: E731
    assert texts == [
        "2023年深圳市“党建杯”机关创新创优竞赛暨第十一届广东省市直机关“先锋杯”工作创新大赛深圳选拔赛获奖名单",
        "一、发展提质", "一等奖（5个）", *[line(cid, i + 1) for i, cid in enumerate(dev[:5])],
        "二等奖（1个）", line(dev[5], 1),
        "二、服务增效", "一等奖（2个）", *[line(cid, i + 1) for i, cid in enumerate(svc)],
        "三、优秀组织奖", "（优秀组织奖名单尚未确定）",
        *HOSTS, "2023年6月25日",
    ]
    title_run = doc.paragraphs[0].runs[0]
    assert title_run.font.name == "方正小标宋简体"
    # once the organisers save their 优秀组织奖 list, the section names those units in the tally's order
    chosen = [finished.units[svc[1]], finished.units[dev[0]]]
    save_award_list(chosen)
    try:
        _, data = export(finished.org, "award_list_docx")
        texts = [p.text for p in Document(io.BytesIO(data)).paragraphs if p.text]
        start = texts.index("三、优秀组织奖（2个）")
        assert texts[start:start + 3] == ["三、优秀组织奖（2个）", f"1. {finished.units[dev[0]]}",
                                          f"2. {finished.units[svc[1]]}"]
        assert texts[start + 3:] == [*HOSTS, "2023年6月25日"]
    finally:
        delete_award_list()


def save_award_list(units: list[str]) -> None:
    """What 保存最终名单 on /admin/organisation-awards does (services.console)."""
    from chalicelib import bootstrap
    from chalicelib.services import console
    console.save_organisation_awards(bootstrap.competition(), bootstrap.deps().award_lists, units,
                                     "organiser:e2e", bootstrap.now(), cases=bootstrap.deps().cases)


def delete_award_list() -> None:
    from chalicelib import bootstrap
    from chalicelib.store.console import award_key
    bootstrap.s3().delete_object(Bucket=bootstrap.config().bucket, Key=award_key(bootstrap.competition().id))


def test_a_retried_or_doubled_invocation_builds_the_export_once(finished):
    from app import exports as exports_function
    from chalicelib import bootstrap
    from chalicelib.store import exports as export_store

    status, job = finished.org.call("POST", "/admin/exports", {"kind": "results_xlsx"})
    first = exports_function({"id": job["id"]}, None)
    assert first == {"id": job["id"], "outcome": "done"}
    s3 = bootstrap.s3()
    key = f"exports/{job['id']}/results.xlsx"
    etag = s3.head_object(Bucket=bootstrap.config().bucket, Key=key)["ETag"]
    row = export_store.get(job["id"])
    assert exports_function({"id": job["id"]}, None) == {"id": job["id"], "outcome": "already_done"}
    assert run_jobs() == []                                   # nothing queued any more
    again = export_store.get(job["id"])
    assert (again.attempts, again.finished_at, again.status) == (1, row.finished_at, "done")
    assert s3.head_object(Bucket=bootstrap.config().bucket, Key=key)["ETag"] == etag

    # two invocations at once: the second finds the job claimed and leaves it alone
    status, job = finished.org.call("POST", "/admin/exports", {"kind": "registrations_xlsx"})
    claimed = export_store.get(job["id"])
    assert export_store.claim(claimed, epoch(bootstrap.now()))
    assert exports_function({"id": job["id"]}, None) == {"id": job["id"], "outcome": "busy"}
    # ... and a run that died is taken over once its lease has passed
    later = epoch(bootstrap.now()) + export_store.LEASE_SECONDS + 1
    finished_clock = bootstrap._clock[0]
    bootstrap.set_clock(fixed_clock(later))
    try:
        assert exports_function({"id": job["id"]}, None) == {"id": job["id"], "outcome": "done"}
    finally:
        bootstrap.set_clock(finished_clock)
    assert export_store.get(job["id"]).attempts == 2
    assert exports_function({"id": "no-such-job"}, None) == {"id": "no-such-job", "outcome": "missing"}


def test_award_mail_twice_sends_one_message_per_awarded_case(finished, client):
    from chalicelib import bootstrap
    before = len(ses_messages())
    ses = bootstrap.client("ses")
    quota = ses.get_send_quota()["SentLast24Hours"]
    assert finished.org.call("POST", "/admin/notifications/awards") == (200, {"sent": 8, "skipped": 0})
    assert finished.org.call("POST", "/admin/notifications/awards") == (200, {"sent": 0, "skipped": 8})
    assert ses.get_send_quota()["SentLast24Hours"] - quota == 8
    sent = ses_messages()[before:]
    assert sorted(m["To"] for m in sent) == sorted(finished.emails.values())
    by_recipient = {m["To"]: m for m in sent}
    for cid, recipient in finished.emails.items():
        message = by_recipient[recipient]
        prize = "二等奖" if cid == finished.ids["development"][5] else "一等奖"
        check_headers(message, recipient, f"获奖通知：贵单位推报的案例荣获{prize}")
        assert finished.titles[cid] not in message["Subject"]                 # user text only in bodies
        text, html = bodies(message)
        assert finished.titles[cid] in text and finished.units[cid] in text and prize in text
        assert html_escape(finished.titles[cid]) in html
        verify = next(link for link in links(html) if "/verify/" in link)
        assert verify in text and verify.startswith("http://127.0.0.1:8000/verify/")
        page = client.http.get(verify.split("8000", 1)[1], headers={"Accept": "text/html"})
        assert page.status_code == 200 and html_escape(finished.titles[cid]) in page.body.decode()
        assert "http://127.0.0.1:8000/cases" in links(html)
    log = finished.org.call("GET", "/admin/mail?kind=award")[1]["mail"]
    assert sorted(m["recipient"] for m in log) == sorted(finished.emails.values())
    assert {m["status"] for m in log} == {"sent"}


def test_mail_of_the_whole_competition_is_in_the_log_once(finished):
    """Registration, submission receipts, judge invitations, advance notices: each once, each parsed."""
    status, log = finished.org.call("GET", "/admin/mail?limit=1000")
    assert status == 200
    kinds = {}
    for entry in log["mail"]:
        kinds.setdefault(entry["kind"], []).append(entry["recipient"])
    assert sorted(kinds["registration"]) == sorted([*finished.emails.values(), "unit99@example.gov.cn"])
    assert sorted(kinds["submission_receipt"]) == sorted(finished.emails.values())
    assert sorted(kinds["advance"]) == sorted(finished.emails.values())
    assert len(kinds["judge_invitation"]) == 12            # 6 judges, text review and final
    messages = {(m["To"], m["Subject"]) for m in ses_messages()}
    assert len(messages) == len(ses_messages())            # nothing went twice
    receipts = [m for m in ses_messages() if "案例提交回执" in m["Subject"]]
    assert len(receipts) == 8
    for message in receipts:
        text, html = bodies(message)
        case_id = re.search(r"案例编号：(\w+)", text).group(1)
        assert finished.emails[case_id] == message["To"]
        assert f"http://127.0.0.1:8000/cases/{case_id}" in links(html)
        assert finished.titles[case_id] in text


def html_escape(text: str) -> str:
    """As Jinja2 escapes it (MarkupSafe)."""
    from markupsafe import escape
    return str(escape(text))


def test_honors_workbook_names_each_honors_nominees_and_every_considered_case(finished):
    _, data = export(finished.org, "honors_xlsx")
    assert_no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["提名汇总", "深圳市五一劳动奖章", "深圳青年五四奖章", "深圳市三八红旗手"]
    dev, svc = finished.ids["development"], finished.ids["service"]
    rank = {cid: i + 1 for ids in finished.ids.values() for i, cid in enumerate(ids)}
    category = {cid: name for c, name in (("development", "发展提质"), ("service", "服务增效")) for cid in finished.ids[c]}
    leader = {cid: n for n, cid in enumerate(dev + svc)}          # LEADERS index; mobile 139000000<n+1>

    summary = wb["提名汇总"]
    assert_sheet_layout(summary, ("荣誉", "牵头人", "案例名称", "类别", "名次", "推荐单位", "牵头人手机"))
    nominees = [("深圳市五一劳动奖章", dev[0]), ("深圳市五一劳动奖章", svc[0]),
                *[("深圳青年五四奖章", cid) for cid in (dev[1], dev[2], dev[3], dev[4], svc[1])]]
    assert [tuple(r) for r in summary.iter_rows(min_row=2, values_only=True)] == [
        (honor, LEADERS[leader[cid]], finished.titles[cid], category[cid], rank[cid], finished.units[cid],
         f"139{leader[cid] + 1:08d}") for honor, cid in nominees]

    considered = finished.org.call("GET", "/admin/honors")[1]["considered"]
    reasons = {(c["honor"], c["case_id"]): (c["eligible"], c["reason"]) for c in considered}
    headers = ("提名", "类别", "名次", "案例名称", "推荐单位", "牵头人", "牵头人职务", "牵头人性别", "牵头人职级",
               "牵头人出生日期", "牵头人手机", "符合条件", "说明")
    top = dev[:5] + svc                                            # ranks 1–5: category order, then rank
    named = {"labour_medal": {dev[0], svc[0]}, "youth_medal": {dev[1], dev[2], dev[3], dev[4], svc[1]},
             "red_banner": set()}
    for honor, sheet in (("labour_medal", "深圳市五一劳动奖章"), ("youth_medal", "深圳青年五四奖章"),
                         ("red_banner", "深圳市三八红旗手")):
        ws = wb[sheet]
        assert_sheet_layout(ws, headers)
        assert f"{sheet}　提名人选及审核情况" in ws.oddHeader.center.text
        expected_order = [cid for cid in top if cid in named[honor]] + [cid for cid in top if cid not in named[honor]]
        rows = [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]
        assert rows == [(
            "是" if cid in named[honor] else "否", category[cid], rank[cid], finished.titles[cid], finished.units[cid],
            LEADERS[leader[cid]], "科长", "女" if leader[cid] % 2 == 0 else "男", "科级及以下", "1990年1月1日",
            f"139{leader[cid] + 1:08d}", "是" if reasons[(honor, cid)][0] else "否", reasons[(honor, cid)][1])
            for cid in expected_order]
    red = {r[3]: r for r in wb["深圳市三八红旗手"].iter_rows(min_row=2, values_only=True)}
    held_back = red[finished.titles[dev[2]]]
    assert held_back[0] == "否" and held_back[11] == "是" and "深圳青年五四奖章" in held_back[12]
    assert red[finished.titles[dev[1]]][11] == "否"                          # a man: not eligible on its own
    assert wb["深圳市五一劳动奖章"]["D2"].quotePrefix                          # =HYPERLINK… stays text


def test_organisation_awards_workbook_lists_every_unit_and_the_chosen_ones(finished):
    dev, svc = finished.ids["development"], finished.ids["service"]
    headers = ("名次", "推荐单位", "案例数", "提交案例数", "进入综合评选数", "一等奖", "二等奖", "三等奖", "得分",
               "系统建议", "选定")
    firsts = sorted([finished.units[cid] for cid in dev[:5] + svc])             # 14 points each, then by name

    def expected(chosen: set[str] | None) -> list[tuple]:
        mark = (lambda unit: "") if chosen is None else (lambda unit: "是" if unit in chosen else "否")  # noqa: E731
        return [*[(1, unit, 1, 1, 1, 1, 0, 0, 14, "是", mark(unit)) for unit in firsts],
                (8, finished.units[dev[5]], 1, 1, 1, 0, 1, 0, 10, "是", mark(finished.units[dev[5]])),
                (9, "深圳市某某局", 1, 0, 0, 0, 0, 0, 0, None, mark("深圳市某某局"))]

    _, data = export(finished.org, "organisation_awards_xlsx")
    assert_no_formulas(data)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["各单位统计", "获奖单位", "说明"]
    assert_sheet_layout(wb["各单位统计"], headers)
    assert [tuple(r) for r in wb["各单位统计"].iter_rows(min_row=2, values_only=True)] == \
        [tuple(None if v == "" else v for v in row) for row in expected(None)]
    assert "最终名单尚未保存" in wb["各单位统计"].oddHeader.center.text
    assert [tuple(r) for r in wb["获奖单位"].iter_rows(min_row=2, values_only=True)] == [
        (None, "（最终名单尚未保存：请在“优秀组织奖”页面勾选并保存后重新导出）")]
    rules = {r[0]: r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert rules["得分"] == "得分 = 提交案例数 × 1 + 进入综合评选数 × 3 + 一等奖 × 10 + 二等奖 × 6 + 三等奖 × 3。"
    assert rules["数据时点"] == "综合评选已结束，奖项为最终结果。"
    assert wb["各单位统计"]["B2"].value == "@SUM(1+1)单位" and wb["各单位统计"]["B2"].quotePrefix

    chosen = [finished.units[svc[0]], finished.units[dev[5]]]
    save_award_list(chosen)
    try:
        _, data = export(finished.org, "organisation_awards_xlsx")
    finally:
        delete_award_list()
    wb = load_workbook(io.BytesIO(data))
    assert [tuple(r) for r in wb["各单位统计"].iter_rows(min_row=2, values_only=True)] == \
        [tuple(None if v == "" else v for v in row) for row in expected(set(chosen))]
    assert [tuple(r) for r in wb["获奖单位"].iter_rows(min_row=2, values_only=True)] == [
        (1, finished.units[svc[0]]), (2, finished.units[dev[5]])]
    assert "尚未保存" not in wb["各单位统计"].oddHeader.center.text
    rules = {r[0]: r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert rules["最终名单"] == "主办单位于 2023年6月25日 09:00 保存，共 2 个单位（“选定”列为“是”）。"


def _unit_browser(client, n: int):
    """A logged-in browser of the finished competition's unit n (tests/integration/finished_competition.py)."""
    from tests.browser import Browser, csrf_of, text as body
    browser = Browser(client)
    csrf = csrf_of(body(browser.get("/login")))
    response = browser.post("/login", {"csrf_token": csrf, "username": f"unit{n}", "password": "correct-horse-1"})
    assert (response.status_code, response.headers["Location"]) == (303, "/cases")
    return browser


def test_a_unit_sees_its_prize_by_name_and_downloads_its_own_certificate(finished, client):
    from tests.browser import text as body
    dev = finished.ids["development"]
    second = _unit_browser(client, 6)                                 # dev[5]: rank 6, 二等奖
    listing = body(second.get("/cases"))
    assert '<span class="badge status-awarded">获奖</span>' in listing
    assert '<span class="badge prize prize-second">二等奖</span>' in listing
    page = body(second.get(f"/cases/{dev[5]}"))
    assert '综合评选结果：<span class="badge prize prize-second">二等奖</span>' in page
    assert f'<a class="button primary" href="/cases/{dev[5]}/certificate" download>荣誉证书</a>' in page
    assert "专家意见" not in page                                     # no coaching feedback in this competition
    assert f'href="/cases/{dev[5]}/edit"' not in page                  # an awarded case is not edited any more
    response = second.get(f"/cases/{dev[5]}/certificate")
    assert (response.status_code, response.headers["Cache-Control"]) == (302, "no-store")
    again = second.get(f"/cases/{dev[5]}/certificate")                    # made once: the same object
    assert again.headers["Location"].split("?")[0] == response.headers["Location"].split("?")[0]
    reader = PdfReader(io.BytesIO(presigned_download(response.headers["Location"], dev[5], "二等奖")))
    assert len(reader.pages) == 1
    flat = "".join(reader.pages[0].extract_text().replace("\x00", "").split())
    assert "荣誉证书" in flat and finished.titles[dev[5]] in flat and finished.units[dev[5]] in flat
    assert "发展提质类二等奖" in flat and "2023年6月25日" in flat and all(host in flat for host in HOSTS)
    code = re.search(r"证书验证码：([A-Z2-7-]{14})", reader.pages[0].extract_text().replace("\x00", "")).group(1)
    check = client.http.get(f"/verify/{code}", headers={"Accept": "text/html"})
    assert check.status_code == 200 and finished.titles[dev[5]] in check.body.decode()

    # another unit's case, a case id that does not exist: the same 404, nothing leaks
    for path in (f"/cases/{dev[0]}/certificate", "/cases/no-such-case/certificate"):
        refused = second.get(path)
        assert refused.status_code == 404 and "没有找到这个案例的荣誉证书" in body(refused)
    anonymous = client.http.get(f"/cases/{dev[5]}/certificate")
    assert (anonymous.status_code, anonymous.headers["Location"]) == (303, "/login")
    # an organiser may fetch any awarded case's certificate
    from tests.browser import Browser, csrf_of
    from tests.integration.test_judging_api import ORGANISER
    organiser = Browser(client)
    csrf = csrf_of(body(organiser.get("/login")))
    assert organiser.post("/login", {"csrf_token": csrf, "username": ORGANISER[0],
                                     "password": ORGANISER[1]}).headers["Location"] == "/admin"
    fetched = organiser.get(f"/cases/{dev[0]}/certificate")
    assert fetched.status_code == 302
    assert presigned_download(fetched.headers["Location"], dev[0], "一等奖").startswith(b"%PDF-")


def presigned_download(url: str, case_id: str, prize: str) -> bytes:
    """The object a certificate link points at (read from the emulated S3), after checking the presigned GET
    names it and downloads it under its Chinese name."""
    from urllib.parse import unquote, urlsplit

    from chalicelib import bootstrap
    comp = bootstrap.competition()
    parts = urlsplit(url)
    key = re.search(rf"certificates/{comp.id}/{case_id}-[0-9a-f]{{16}}\.pdf$", parts.path).group(0)
    assert "X-Amz-Signature=" in parts.query
    disposition = unquote(unquote(parts.query.split("response-content-disposition=", 1)[1].split("&", 1)[0]))
    assert disposition.startswith(f"attachment; filename*=UTF-8''{comp.short_name}-荣誉证书-{prize}-")
    obj = bootstrap.s3().get_object(Bucket=bootstrap.config().bucket, Key=key)
    assert obj["ContentType"] == "application/pdf"
    return obj["Body"].read()


def test_a_case_without_a_prize_has_no_certificate(finished, client):
    from tests.browser import text as body
    drafter = _unit_browser(client, 99)                                # only a draft
    listing = body(drafter.get("/cases"))
    draft_id = re.search(r'data-case-id="(\w+)"', listing).group(1)
    assert "badge prize" not in listing
    assert "荣誉证书" not in body(drafter.get(f"/cases/{draft_id}"))
    refused = drafter.get(f"/cases/{draft_id}/certificate")
    assert refused.status_code == 404 and "没有找到这个案例的荣誉证书" in body(refused)
