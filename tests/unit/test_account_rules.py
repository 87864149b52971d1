"""The account rules: folded usernames and their look, passwords, the back-off, the organiser roles by route."""
from __future__ import annotations

import pytest

from chalicelib.domain.accounts import (
    backoff_seconds, organiser_refusal, password_problem, username_key, username_skeleton,
)

VIEWER = "只读成员只能查看，不能修改（如需修改请联系管理员）"
ADMIN = "只有管理员可以进行此操作（团队成员、阶段时间、关闭阶段、发送获奖通知）"


def test_username_key_folds_width_and_case():
    assert [username_key(u) for u in ("ＵＮＩＴ１", "Unit1", "unit1", "STRASSE", "Straße")] == [
        "unit1", "unit1", "unit1", "strasse", "strasse"]


def test_username_skeleton_sees_through_look_alikes():
    assert username_skeleton("оrganiser") == username_skeleton("organiser")      # Cyrillic о
    assert username_skeleton("аdmin") == username_skeleton("admin")              # Cyrillic а
    assert username_skeleton("p0lice") == username_skeleton("police")
    assert username_skeleton("unit2") != username_skeleton("unit3")
    assert username_skeleton("党建办") == "党建办"


@pytest.mark.parametrize("password, problem", [
    ("short-pass1", "密码至少 12 位"), ("x" * 129 + "y", "密码不能超过 128 位"),
    ("111111111111", "密码不能由同一个字符重复组成"), ("Unit-Name-12", "密码不能与用户名相同"),
    ("Password1234", "该密码过于常见，容易被猜中，请换一个"), ("1qaz2wsx3edc", "该密码过于常见，容易被猜中，请换一个"),
    ("woaini1314520", "该密码过于常见，容易被猜中，请换一个"), ("correct-horse-1", None),
    ("密码是一段很长的中文句子啊", None),
])
def test_password_problem(password, problem):
    assert password_problem(password, "unit-name-12") == problem


def test_backoff_starts_after_the_free_attempts_and_doubles_up_to_the_longest():
    assert [backoff_seconds(n, 5, 60) for n in range(1, 12)] == [0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_seconds(10_000, 5, 900) == 900


@pytest.mark.parametrize("role, method, route, refusal", [
    ("admin", "POST", "/api/v1/admin/organisers", None),
    ("admin", "POST", "/api/v1/admin/stages/{stage_id}/close", None),
    ("staff", "POST", "/api/v1/admin/judges", None),
    ("staff", "POST", "/admin/judges", None),
    ("staff", "POST", "/api/v1/admin/organisers", ADMIN),
    ("staff", "DELETE", "/api/v1/admin/organisers/{username}", ADMIN),
    ("staff", "POST", "/admin/team/{username}/role", ADMIN),
    ("staff", "PUT", "/api/v1/admin/stages/{stage_id}", ADMIN),
    ("staff", "POST", "/admin/stages/{stage_id}/window", ADMIN),
    ("staff", "POST", "/admin/stages/{stage_id}/close", ADMIN),
    ("staff", "POST", "/api/v1/admin/notifications/awards", ADMIN),
    ("staff", "GET", "/admin/team", None),
    ("viewer", "GET", "/api/v1/admin/judges", None),
    ("viewer", "GET", "/admin/stages", None),
    ("viewer", "POST", "/api/v1/admin/exports", None),
    ("viewer", "POST", "/api/v1/admin/judges", VIEWER),
    ("viewer", "PUT", "/api/v1/admin/some/route/added/later", VIEWER),
    ("viewer", "DELETE", "/api/v1/admin/judges/{judge_id}/links/{stage_id}", VIEWER),
    ("viewer", "POST", "/admin/final/draw/{category}", VIEWER),
    ("viewer", "PUT", "/api/v1/account/password", None),
    ("viewer", "POST", "/logout", None),
    ("nonsense", "POST", "/api/v1/admin/judges", VIEWER),     # an unknown role is treated as read-only
    (None, "POST", "/api/v1/admin/organisers", VIEWER),
])
def test_organiser_refusal_by_route(role, method, route, refusal):
    assert organiser_refusal(role, method, route) == refusal
