"""The HTML pages through chalice's test client: forms, CSRF, sessions, refused forms keeping values."""
from __future__ import annotations

import html as htmllib
import re

import pytest

from tests.browser import Browser, csrf_of, set_cookies, text
from tests.conftest import case_body, register_unit

UNIT = {"username": "unit1", "password": "correct-horse-1", "unit_name": "深圳市第1局", "unit_system": "municipal",
        "district": "", "contact_name": "张三", "email": "u1@example.gov.cn", "mobile": "13800138000"}


def input_value(page: str, element_id: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bid="{element_id}"[^>]*>', page)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return htmllib.unescape(value.group(1)) if value else None


def textarea_value(page: str, element_id: str) -> str | None:
    found = re.search(rf'<textarea[^>]*\bid="{element_id}"[^>]*>\n?(.*?)</textarea>', page, re.S)
    return htmllib.unescape(found.group(1)) if found else None


def selected(page: str, element_id: str) -> str | None:
    found = re.search(rf'<select[^>]*\bid="{element_id}".*?</select>', page, re.S)
    option = re.search(r'<option value="([^"]*)" selected>', found.group(0)) if found else None
    return option.group(1) if option else None


def register_and_login(browser: Browser, **overrides) -> str:
    """Registers and logs in through the forms; returns the /cases page."""
    page = text(browser.get("/register"))
    fields = {**UNIT, **overrides, "csrf_token": csrf_of(page)}
    response = browser.post("/register", fields)
    assert response.status_code == 303, text(response)
    page = text(browser.get("/login"))
    response = browser.post("/login", {"username": fields["username"], "password": fields["password"],
                                       "csrf_token": csrf_of(page)})
    assert (response.status_code, response.headers["Location"]) == (303, "/cases")
    return text(browser.get("/cases"))


def form_fields(csrf: str, version: str = "", action: str = "save", **overrides) -> list[tuple[str, str]]:
    body = case_body()
    fields = [("csrf_token", csrf), ("version", version), ("action", action),
              ("category", body["category"]), ("recommending_unit", body["recommending_unit"]), ("title", body["title"])]
    fields += [(f"leader.{k}", v) for k, v in body["leader"].items()]
    fields += [(f"contact.{k}", v) for k, v in body["contact"].items()]
    fields += [("background", body["background"])]
    fields += [("innovations", p) for p in body["innovations"]] + [("results", p) for p in body["results"]]
    fields += [("originality_pledge", "1")]
    replaced = dict(overrides)
    return [(k, replaced.pop(k) if k in replaced else v) for k, v in fields] + list(replaced.items())


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


def test_home_shows_the_competition_stages_and_links(browser):
    response = browser.get("/")
    page = text(response)
    assert response.status_code == 200
    assert "抓党建强队伍 促发展建新功" in page
    assert re.search(r"<th scope=\"row\">文本申报</th>\s*<td>2023年5月19日 00:00</td>\s*<td>2023年6月9日 23:59</td>\s*"
                     r"<td><span class=\"badge badge-open\">进行中</span>", page)
    assert '<a class="button primary" href="/register">注册</a>' in page
    assert '<a class="button" href="/login">登录</a>' in page


def test_pages_carry_the_security_headers(browser):
    response = browser.get("/login")
    headers = response.headers
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "form-action 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert re.search(r"connect-src 'self' https://saiping-local-files\.s3[.\w-]*\.amazonaws\.com", csp), csp
    assert "<script>" not in text(response) and " on" + "click=" not in text(response)


def test_register_and_login_through_the_forms(browser):
    page = text(browser.get("/register"))
    assert browser.jar["sp_csrf"] == csrf_of(page)
    for label in ("用户名", "密码", "单位名称", "单位类型", "联系人", "电子邮箱", "手机"):
        assert re.search(rf'<label for="f-[\w-]+">{label}</label>', page), label
    assert '<option value="municipal">市直</option>' in page and '<option value="district">区直</option>' in page
    response = browser.post("/register", {**UNIT, "csrf_token": csrf_of(page)})
    assert (response.status_code, response.headers["Location"]) == (303, "/login?done=registered")

    login_page = browser.get("/login")
    assert "注册成功，请登录。" not in text(login_page)  # no flag in this URL
    response = browser.post("/login", {"username": "unit1", "password": "correct-horse-1",
                                       "csrf_token": csrf_of(text(login_page))})
    assert (response.status_code, response.headers["Location"]) == (303, "/cases")
    session_cookie = next(c for c in set_cookies(response) if c.startswith("__Host-sp_session="))
    assert session_cookie.split("; ")[1:] == ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=43200", "Secure"]

    cases_page = browser.get("/cases")
    assert cases_page.status_code == 200
    assert "<h1>我的案例</h1>" in text(cases_page)
    assert '<a class="button primary" href="/cases/new">新增案例</a>' in text(cases_page)


def test_the_anonymous_csrf_cookie_is_httponly_strict(browser):
    response = browser.get("/login")
    cookie = next(c for c in set_cookies(response) if c.startswith("sp_csrf="))
    assert cookie.split("; ")[1:] == ["Path=/", "HttpOnly", "SameSite=Strict", "Secure"]
    assert set_cookies(browser.get("/register")) == []  # the same token serves every anonymous form


def test_a_refused_registration_keeps_values_but_never_the_password(browser):
    page = text(browser.get("/register"))
    response = browser.post("/register", {**UNIT, "mobile": "12345", "email": "not-an-email",
                                          "csrf_token": csrf_of(page)})
    page = text(response)
    assert response.status_code == 400
    assert input_value(page, "f-unit-name") == "深圳市第1局"
    assert selected(page, "f-unit-system") == "municipal"
    assert input_value(page, "f-mobile") == "12345"
    assert input_value(page, "f-password") is None and "correct-horse-1" not in page
    assert re.search(r'id="f-mobile"[^>]*aria-describedby="f-mobile-error f-mobile-hint"[^>]*>\s*<p class="field-error" '
                     r'id="f-mobile-error">手机应为以 1 开头的 11 位号码', page)
    assert 'id="f-email-error">电子邮箱格式不正确' in page


def test_the_register_hints_say_what_the_server_checks(browser):
    page = text(browser.get("/register"))
    hints = dict(re.findall(r'<p class="hint" id="f-([\w-]+)-hint">([^<]*)</p>', page))
    assert hints == {"username": "2～64 位字母、汉字、数字或 _ . - @（不含空格）", "password": "至少 12 位、最多 128 位，不能是常见密码、用户名或同一字符重复",
                     "unit-name": "2～100 个字符；每个单位只能注册一个帐号",
                     "district": "单位类型为区直时必填，如 福田区、大鹏新区（不超过 50 个字符）",
                     "contact-name": "不超过 50 个字符", "email": "如 dangjian@example.gov.cn",
                     "mobile": "以 1 开头的 11 位号码（第二位为 3～9）"}
    refused = text(browser.post("/register", {**UNIT, "username": "a", "password": "123456789", "mobile": "12345",
                                              "email": "x", "unit_system": "district", "csrf_token": csrf_of(page)}))
    errors = dict(re.findall(r'<p class="field-error" id="f-([\w-]+)-error">([^<]*)</p>', refused))
    assert errors == {"username": "用户名应为 2～64 位字母、汉字、数字或 _ . - @（不含空格）", "password": "密码至少 12 位",
                      "district": "单位类型为区直时请填写所属区（如 福田区、大鹏新区）",
                      "email": "电子邮箱格式不正确（如 dangjian@example.gov.cn）",
                      "mobile": "手机应为以 1 开头的 11 位号码（第二位为 3～9）"}
    unchosen = text(browser.post("/register", {**UNIT, "unit_system": "", "csrf_token": csrf_of(page)}))
    assert '<p class="field-error" id="f-unit-system-error">请选择单位类型：市直或区直</p>' in unchosen
    # the boundaries the hints name are accepted: a 2-character username, a 12-character password
    accepted = browser.post("/register", {**UNIT, "username": "u1", "password": "kq7-Vd2p!xRz", "unit_system": "district",
                                          "district": "福田区", "csrf_token": csrf_of(page)})
    assert accepted.status_code == 303


def test_a_district_unit_is_shown_with_its_district(browser):
    page = register_and_login(browser, unit_system="district", district="大鹏新区", unit_name="大鹏新区组织人事局")
    assert '<a href="/account" class="who">大鹏新区组织人事局（大鹏新区）</a>' in page
    form = text(browser.get("/register"))
    assert re.search(r'<div data-shown-for-unit-system="district">\s*<div class="field">\s*<label for="f-district">所属区</label>',
                     form)


def test_a_second_account_for_a_unit_is_shown_beside_the_unit_name(browser, client):
    register_and_login(browser)
    other = Browser(client)
    page = text(other.get("/register"))
    response = other.post("/register", {**UNIT, "username": "unit1b", "csrf_token": csrf_of(page)})
    assert response.status_code == 409
    assert 'id="f-unit-name-error">该单位已注册帐号</p>' in text(response)


@pytest.mark.parametrize("case", ["missing field", "wrong field", "missing cookie", "planted cookie"])
def test_anonymous_forms_without_the_right_csrf_token_are_refused(browser, api, case):
    register_unit(api)
    token = csrf_of(text(browser.get("/login")))
    fields = {"username": "unit1", "password": "correct-horse-1", "csrf_token": token}
    if case == "missing field":
        del fields["csrf_token"]
    elif case == "wrong field":
        fields["csrf_token"] = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif case == "missing cookie":
        browser.jar.clear()
    else:  # a cookie the attacker chose and repeated in the field: unsigned, so refused
        browser.jar["sp_csrf"] = fields["csrf_token"] = "attacker-chosen.0000"
    response = browser.post("/login", fields)
    assert response.status_code == 403
    assert "安全校验失败（CSRF）" in text(response)
    assert "sp_session" not in browser.jar
    assert browser.post("/register", {**UNIT, "username": "unit9", "unit_name": "某局",
                                      "csrf_token": fields.get("csrf_token", "")}).status_code == 403


def test_logged_in_forms_need_the_sessions_csrf_token(browser):
    register_and_login(browser)
    page = text(browser.get("/cases/new"))
    csrf = csrf_of(page)
    missing = browser.post("/cases/new", [kv for kv in form_fields(csrf) if kv[0] != "csrf_token"])
    wrong = browser.post("/cases/new", form_fields(csrf[::-1]))
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert "安全校验失败（CSRF）" in text(wrong)
    assert "党建引领数字政府建设" not in text(browser.get("/cases"))  # nothing was saved
    assert browser.post("/logout", {"csrf_token": "nope"}).status_code == 403


def test_a_refused_submit_keeps_every_value_and_shows_the_error_beside_the_mobile(browser):
    register_and_login(browser)
    csrf = csrf_of(text(browser.get("/cases/new")))
    fields = [kv for kv in form_fields(csrf, action="submit", **{"leader.mobile": "12345678901"})
              if kv[0] != "innovations"] + [("innovations", "创新点一"), ("innovations", "第二条\r\n多行<b>文字</b>")]
    response = browser.post("/cases/new", fields)
    page = text(response)
    assert response.status_code == 400

    body = case_body()
    assert selected(page, "f-category") == "development"
    assert input_value(page, "f-recommending-unit") == body["recommending_unit"]
    assert input_value(page, "f-title") == body["title"]
    assert input_value(page, "f-leader-name") == "李四"
    assert input_value(page, "f-leader-mobile") == "12345678901"
    assert input_value(page, "f-leader-office-phone") == "0755-88134324"
    assert selected(page, "f-leader-gender") == "female" and selected(page, "f-leader-rank-level") == "section_or_below"
    assert input_value(page, "f-leader-birth-date") == "1988-05-04"
    assert input_value(page, "f-contact-mobile") == "13712345678"
    assert textarea_value(page, "f-background") == body["background"]
    assert textarea_value(page, "f-innovations-0") == "创新点一"
    assert textarea_value(page, "f-innovations-1") == "第二条\n多行<b>文字</b>"
    assert textarea_value(page, "f-results-0") == "成果一"
    assert re.search(r'id="f-originality-pledge"[^>]* checked', page)

    # The message sits right after the input it is about, tied to it, and in the summary at the top.
    assert re.search(r'<label for="f-leader-mobile">牵头人手机</label>\s*<input type="tel" id="f-leader-mobile" '
                     r'name="leader.mobile" value="12345678901"[^>]*aria-describedby="f-leader-mobile-error" '
                     r'aria-invalid="true">\s*<p class="field-error" id="f-leader-mobile-error">牵头人手机应为以 1 开头的 11 位手机号码',
                     page), page
    assert '<a href="#f-leader-mobile">牵头人手机应为以 1 开头的 11 位手机号码' in page
    assert page.count('class="field-error"') == 1

    # The draft was kept; the form now edits it, so fixing the mobile and 提交 again submits that case.
    case_id = re.search(r'action="/cases/(\w+)/edit"', page).group(1)
    assert re.search(r'name="version" value="1"', page)
    fields = form_fields(csrf, version="1", action="submit")
    response = browser.post(f"/cases/{case_id}/edit", fields)
    assert (response.status_code, response.headers["Location"]) == (303, "/cases?done=submitted")
    listing = text(browser.get("/cases?done=submitted"))
    assert "案例已提交。" in listing
    assert re.search(rf'data-case-id="{case_id}">.*?<span class="badge status-submitted">已提交</span>', listing, re.S)


def test_save_draft_keeps_the_points_and_returns_to_the_form(browser):
    register_and_login(browser)
    csrf = csrf_of(text(browser.get("/cases/new")))
    fields = form_fields(csrf, **{"leader.mobile": "1"}) + [("innovations", "三"), ("results", "成果二")]
    response = browser.post("/cases/new", fields)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/cases/\w+/edit\?done=saved", location)
    page = text(browser.get(location))
    assert "草稿已保存。" in page
    assert [textarea_value(page, f"f-innovations-{i}") for i in range(3)] == ["创新点一", "创新点二", "三"]
    assert [textarea_value(page, f"f-results-{i}") for i in range(2)] == ["成果一", "成果二"]
    assert input_value(page, "f-leader-mobile") == "1"  # drafts may be incomplete or wrong until 提交
    assert re.search(r'<span class="badge status-draft" id="case-status">草稿</span>', page)
    assert re.search(r'name="version" value="1"', page)


def test_an_empty_point_on_submit_is_flagged_beside_that_point(browser):
    register_and_login(browser)
    csrf = csrf_of(text(browser.get("/cases/new")))
    fields = form_fields(csrf, action="submit") + [("innovations", "  ")]
    page = text(browser.post("/cases/new", fields))
    assert re.search(r'<label for="f-innovations-2">案例创新点3</label>\s*<textarea id="f-innovations-2"[^>]*'
                     r'aria-describedby="f-innovations-2-error"[^>]*>\n  </textarea>\s*'
                     r'<p class="field-error" id="f-innovations-2-error">案例创新点第3条为空', page)


def test_text_over_the_limit_is_shown_at_the_counter(browser):
    register_and_login(browser)
    csrf = csrf_of(text(browser.get("/cases/new")))
    page = text(browser.post("/cases/new", form_fields(csrf, background="字" * 3001)))
    assert re.search(r'<strong data-char-count>\d+</strong> / 3000', page)
    assert re.search(r'id="char-count-error">案例名称、背景、创新点和成果合计不能超过3000字（现有\d+/3000字', page)
    assert textarea_value(page, "f-background") == "字" * 3001


def test_a_stale_version_keeps_the_users_text_and_offers_the_current_version(browser, api):
    register_and_login(browser)
    csrf = csrf_of(text(browser.get("/cases/new")))
    location = browser.post("/cases/new", form_fields(csrf)).headers["Location"]
    case_id = location.split("/")[2]
    first_tab = text(browser.get(f"/cases/{case_id}/edit"))
    assert re.search(r'name="version" value="1"', first_tab)

    # A second tab saves first.
    second = browser.post(f"/cases/{case_id}/edit", form_fields(csrf, version="1", title="另一个标签页的标题"))
    assert second.status_code == 303

    mine = form_fields(csrf, version="1", title="我刚写好的标题", background="我刚写好的背景，很长很长。")
    response = browser.post(f"/cases/{case_id}/edit", mine)
    page = text(response)
    assert response.status_code == 409
    assert "案例已在别处被修改" in page and "当前为第 2 版" in page
    assert input_value(page, "f-title") == "我刚写好的标题"
    assert textarea_value(page, "f-background") == "我刚写好的背景，很长很长。"
    assert re.search(r'name="version" value="2"', page)

    # Saving again on purpose, from the re-rendered form, succeeds with the user's text.
    again = browser.post(f"/cases/{case_id}/edit", form_fields(csrf, version="2", title="我刚写好的标题"))
    assert again.status_code == 303
    assert input_value(text(browser.get(f"/cases/{case_id}/edit")), "f-title") == "我刚写好的标题"


def test_titles_are_escaped_on_the_case_list(browser, api):
    register_and_login(browser)
    token = api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})[1]["token"]
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    status, _ = api.as_(token).call("POST", "/cases", case_body(title=payload))
    assert status == 201
    page = text(browser.get("/cases"))
    assert "<script>alert" not in page and "<img src=x" not in page
    shown = re.search(r'<a class="case-title" href="/cases/\w+">(.*?)</a>', page).group(1)
    assert "<" not in shown and htmllib.unescape(shown) == payload


def test_a_unit_cannot_open_another_units_case(browser, client, api):
    token = register_unit(api, 2)
    _, other_case = api.as_(token).call("POST", "/cases", case_body())
    register_and_login(browser)
    response = browser.get(f"/cases/{other_case['id']}/edit")
    assert response.status_code == 403
    assert "这不是本单位的案例" in text(response)


def test_pages_need_a_session_and_the_right_role(browser, client):
    from chalicelib import bootstrap
    from chalicelib.services import accounts

    assert browser.get("/cases").headers["Location"] == "/login"
    assert browser.get("/cases/new").headers["Location"] == "/login"
    assert browser.get("/admin").headers["Location"] == "/login"
    register_and_login(browser)
    assert browser.get("/admin").headers["Location"] == "/login"

    accounts.ensure_organiser(bootstrap.deps().accounts, "boss", "organiser-pass-1", bootstrap.config(), bootstrap.now())
    organiser = Browser(client)
    token = csrf_of(text(organiser.get("/login")))
    response = organiser.post("/login", {"username": "boss", "password": "organiser-pass-1", "csrf_token": token})
    assert response.headers["Location"] == "/admin"
    assert "主办单位管理台" in text(organiser.get("/admin"))
    assert organiser.get("/cases").headers["Location"] == "/admin"


def test_a_wrong_password_keeps_the_username_only(browser, api):
    register_unit(api)
    token = csrf_of(text(browser.get("/login")))
    response = browser.post("/login", {"username": "unit1", "password": "wrong-password-x", "csrf_token": token})
    assert response.status_code == 401
    assert "用户名或密码错误" in text(response)
    assert input_value(text(response), "f-username") == "unit1"
    assert "wrong-password-x" not in text(response)


def test_logout_ends_the_session(browser):
    page = register_and_login(browser)
    token = browser.jar["__Host-sp_session"]
    response = browser.post("/logout", {"csrf_token": csrf_of(page)})
    assert (response.status_code, response.headers["Location"]) == (303, "/login?done=logged_out")
    assert "__Host-sp_session" not in browser.jar
    browser.jar["__Host-sp_session"] = token  # the old cookie no longer works
    assert browser.get("/cases").headers["Location"] == "/login"


def test_a_form_that_is_not_utf8_is_a_400_page(browser):
    token = csrf_of(text(browser.get("/login")))
    for raw in (b"username=\xff\xfe&password=x&csrf_token=" + token.encode(), b"username=%FF%FE&csrf_token=x"):
        response = browser.post("/login", raw=raw)
        assert response.status_code == 400, raw
        assert "应为 UTF-8 编码" in text(response)
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_static_files_are_served_from_a_whitelist(browser):
    css = browser.get("/static/app.css")
    js = browser.get("/static/app.js")
    assert (css.status_code, css.headers["Content-Type"]) == (200, "text/css; charset=utf-8")
    assert (js.status_code, js.headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert js.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("base.html", "..%2Fpages%2Fbase.html", "app.css.bak"):
        assert browser.get(f"/static/{name}").status_code == 404
    page = text(browser.get("/"))
    versioned = re.search(r'href="(/static/app\.css\?v=\w+)"', page).group(1)
    assert "immutable" in browser.get(versioned).headers["Cache-Control"]


def test_the_case_form_has_every_label_of_the_contract(browser):
    register_and_login(browser)
    page = text(browser.get("/cases/new"))
    labels = re.findall(r'<label for="([\w-]+)">([^<]+)</label>', page)
    ids = set(re.findall(r'\bid="([\w-]+)"', page))
    names = [name for _, name in labels]
    assert names == ["案例类别", "推荐单位", "案例名称", "牵头人姓名", "牵头人职务", "牵头人办公电话", "牵头人手机",
                     "牵头人性别", "牵头人职级", "牵头人出生日期", "联系人姓名", "联系人职务", "联系人办公电话",
                     "联系人手机", "案例背景", "案例创新点1", "案例取得的成果1", "附件", "坚持原创承诺",
                     "同意在成果展示中公开"]
    assert all(target in ids for target, _ in labels)
    for option in ("发展提质", "服务增效", "党建赋能", "女", "男", "科级及以下", "处级及以上"):
        assert re.search(rf'<option value="\w+">{option}</option>', page), option
    assert '<button type="submit" name="action" value="save">保存草稿</button>' in page
    assert '<button type="submit" name="action" value="submit" class="primary">提交</button>' in page
    assert '<input type="file" id="f-attachments" multiple' in page
    assert 'type="date" id="f-leader-birth-date"' in page


def test_attachments_are_listed_with_download_and_delete(browser, api):
    from chalicelib import bootstrap

    register_and_login(browser)
    token = api.call("POST", "/sessions", {"username": "unit1", "password": "correct-horse-1"})[1]["token"]
    unit = api.as_(token)
    _, case = unit.call("POST", "/cases", case_body())
    data = b"%PDF-1.4\n" + b"0" * 100 + b"\n%%EOF\n"
    _, declared = unit.call("POST", f"/cases/{case['id']}/attachments",
                            {"filename": "说明书.pdf", "content_type": "application/pdf", "size": len(data)})
    bootstrap.files().put(declared["upload"]["fields"]["key"], data, "application/pdf")
    assert unit.call("POST", f"/cases/{case['id']}/attachments/{declared['attachment_id']}/confirm")[0] == 200

    page = text(browser.get(f"/cases/{case['id']}/edit"))
    aid = declared["attachment_id"]
    assert re.search(rf'data-attachment-id="{aid}" data-status="verified">\s*<span class="filename">说明书.pdf</span>'
                     r'.*?已校验.*?下载</a>\s*<button type="button" class="delete-attachment">删除<span', page, re.S)
    download = browser.get(f"/cases/{case['id']}/attachments/{aid}")
    assert download.status_code == 302
    assert f"cases/{case['id']}/{aid}" in download.headers["Location"]


def test_the_case_page_shows_its_status_and_can_withdraw(browser):
    page = register_and_login(browser)
    csrf = csrf_of(page)
    browser.post("/cases/new", form_fields(csrf, action="submit"))
    case_id = re.search(r'data-case-id="(\w+)"', text(browser.get("/cases"))).group(1)
    page = text(browser.get(f"/cases/{case_id}"))
    assert '<span class="badge status-submitted">已提交</span>' in page
    assert "<dt>案例类别</dt><dd>发展提质</dd>" in page
    assert f'<a class="button" href="/cases/{case_id}/withdraw">撤回</a>' in page      # a link: it asks first
    confirm = text(browser.get(f"/cases/{case_id}/withdraw"))
    assert "确认撤回案例" in confirm and '<input type="hidden" name="confirm" value="yes">' in confirm
    assert '<span class="badge status-submitted">已提交</span>' in text(browser.get("/cases"))   # the GET changes nothing
    unconfirmed = browser.post(f"/cases/{case_id}/withdraw", {"csrf_token": csrf})
    assert unconfirmed.status_code == 200 and "确认撤回案例" in text(unconfirmed)
    assert '<span class="badge status-submitted">已提交</span>' in text(browser.get("/cases"))
    response = browser.post(f"/cases/{case_id}/withdraw", {"csrf_token": csrf, "confirm": "yes"})
    assert (response.status_code, response.headers["Location"]) == (303, "/cases?done=withdrawn")
    assert '<span class="badge status-withdrawn">已撤回</span>' in text(browser.get("/cases"))


def test_a_closed_submission_window_is_said_above_the_form_and_keeps_the_values(browser, clock):
    from datetime import datetime

    from tests.conftest import CHINA

    clock.set(datetime(2023, 6, 10, 9, 0, tzinfo=CHINA))
    csrf = csrf_of(register_and_login(browser))
    assert "当前不能保存：文本申报阶段当前未开放" in text(browser.get("/cases/new"))
    response = browser.post("/cases/new", form_fields(csrf, title="截止后写的标题"))
    assert response.status_code == 409
    assert "文本申报阶段未开放" in text(response)
    assert input_value(text(response), "f-title") == "截止后写的标题"
