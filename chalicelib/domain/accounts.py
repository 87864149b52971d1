"""Registration rules: one account per unit, the username and password rules, contact formats."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from .cases import MOBILE
from .errors import Invalid
from .text import single_line

USERNAME = re.compile(r"^[\w.@-]{2,64}$")
# One address rule for registration, judges and the mail that goes to them: characters that quote,
# separate or bracket addresses in a mail header (<>"',;) are refused, so every stored address is mailable.
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PASSWORD_MIN = 10
PASSWORD_MAX = 128
DISTRICT_MAX = 50
UNIT_SYSTEMS = {"municipal": "市直", "district": "区直"}
# What each registration field must be, in the words the form's hints show and the errors repeat: one text,
# so the hint beside a field says exactly what the server checks.
RULES = {
    "username": "2～64 位字母、汉字、数字或 _ . - @（不含空格）",
    "password": f"至少 {PASSWORD_MIN} 位，最多 {PASSWORD_MAX} 位",
    "unit_name": "2～100 个字符；每个单位只能注册一个帐号",
    "district": f"单位类型为区直时必填，如 福田区、大鹏新区（不超过 {DISTRICT_MAX} 个字符）",
    "contact_name": "不超过 50 个字符",
    "email": "如 dangjian@example.gov.cn",
    "mobile": "以 1 开头的 11 位号码（第二位为 3～9）",
}


@dataclass(frozen=True)
class Registration:
    username: str
    password: str
    unit_name: str
    unit_system: str
    district: str | None
    contact_name: str
    email: str
    mobile: str


def unit_key(unit_name: str) -> str:
    """Two spellings of one unit (spaces, full-width letters, case) are the same unit."""
    folded = unicodedata.normalize("NFKC", unit_name)
    return re.sub(r"\s+", "", folded).casefold()


def _str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return single_line(value) if isinstance(value, str) else None


def parse_registration(raw: Any) -> Registration:
    if not isinstance(raw, Mapping):
        raise Invalid("请求体应为 JSON 对象", {"body": "应为 JSON 对象"})
    errors: dict[str, str] = {}
    username = _str(raw, "username") or ""
    if not USERNAME.match(username):
        errors["username"] = f"用户名应为 {RULES['username']}"
    password = raw.get("password") if isinstance(raw.get("password"), str) else ""
    if len(password) < PASSWORD_MIN:
        errors["password"] = f"密码至少 {PASSWORD_MIN} 位"
    elif len(password) > PASSWORD_MAX:
        errors["password"] = f"密码不能超过 {PASSWORD_MAX} 位"
    unit_name = _str(raw, "unit_name") or ""
    if not 2 <= len(unit_name) <= 100:
        errors["unit_name"] = "请填写单位名称（2～100 个字符）"
    unit_system = _str(raw, "unit_system") or ""
    if unit_system not in UNIT_SYSTEMS:
        errors["unit_system"] = "请选择单位类型：市直或区直"
    district = (_str(raw, "district") or None) if unit_system == "district" else None   # a 市直 unit has none
    if unit_system == "district" and district is None:
        errors["district"] = "单位类型为区直时请填写所属区（如 福田区、大鹏新区）"
    elif district is not None and len(district) > DISTRICT_MAX:
        errors["district"] = f"所属区不能超过 {DISTRICT_MAX} 个字符"
    contact_name = _str(raw, "contact_name") or ""
    if not 1 <= len(contact_name) <= 50:
        errors["contact_name"] = "请填写联系人姓名（不超过 50 个字符）"
    email = _str(raw, "email") or ""
    if len(email) > 254 or not EMAIL.match(email):
        errors["email"] = f"电子邮箱格式不正确（{RULES['email']}）"
    mobile = _str(raw, "mobile") or ""
    if not MOBILE.match(mobile):
        errors["mobile"] = f"手机应为{RULES['mobile']}"
    if errors:
        first = next(iter(errors.values()))
        raise Invalid(first if len(errors) == 1 else f"{first}（共{len(errors)}处需要修改）", errors)
    return Registration(username, password, unit_name, unit_system, district, contact_name, email, mobile)
