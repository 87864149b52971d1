"""Account rules: one account per unit, usernames (folded, no look-alikes), passwords, contact formats,
and who in the organiser team may do what."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from .cases import MOBILE
from .errors import Invalid
from .text import single_line

USERNAME = re.compile(r"^[\w.@-]{2,64}$")
# One address rule for registration, judges and the mail that goes to them: characters that quote,
# separate or bracket addresses in a mail header (<>"',;) are refused, so every stored address is mailable.
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PASSWORD_MIN = 12
PASSWORD_MAX = 128        # refused above this, never cut short
PASSWORD_HINT = f"至少 {PASSWORD_MIN} 位、最多 {PASSWORD_MAX} 位，不能是常见密码、用户名或同一字符重复"
DISTRICT_MAX = 50
UNIT_SYSTEMS = {"municipal": "市直", "district": "区直"}
# What each registration field must be, in the words the form's hints show and the errors repeat: one text,
# so the hint beside a field says exactly what the server checks.
RULES = {
    "username": "2～64 位字母、汉字、数字或 _ . - @（不含空格）",
    "password": PASSWORD_HINT,
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
    username = username_key(_str(raw, "username") or "")
    if not USERNAME.match(username):
        errors["username"] = f"用户名应为 {RULES['username']}"
    given = raw.get("password")
    password = given if isinstance(given, str) else ""
    problem = password_problem(password, username)
    if problem:
        errors["password"] = problem
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


# -- usernames --------------------------------------------------------------------------------------

def username_key(username: str) -> str:
    """The one spelling a username is stored and looked up by: NFKC-normalised and case-folded, so
    ＵＮＩＴ１, Unit1 and unit1 are one user."""
    return unicodedata.normalize("NFKC", username).casefold().strip()


# Letters of other scripts (and digits) that look like Latin letters: a username whose skeleton equals an
# existing one's is refused (after Unicode TS #39's confusables, the part that matters for usernames).
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "һ": "h", "ӏ": "l", "ь": "b", "г": "r", "п": "n", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j", "μ": "u",
    "0": "o", "1": "l", "|": "l", "5": "s", "ı": "i", "ℓ": "l",
})


def username_skeleton(username: str) -> str:
    """What a username looks like: two usernames with one skeleton would be mistaken for each other."""
    folded = username_key(username)
    stripped = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    return stripped.translate(_CONFUSABLES).replace("rn", "m").replace("vv", "w")


# -- passwords --------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text("utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("# "))


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused (in Chinese), or None. The password itself is never echoed."""
    if len(password) < PASSWORD_MIN:
        return f"密码至少 {PASSWORD_MIN} 位"
    if len(password) > PASSWORD_MAX:
        return f"密码不能超过 {PASSWORD_MAX} 位"
    folded = unicodedata.normalize("NFKC", password).casefold()
    if len(set(folded)) == 1:
        return "密码不能由同一个字符重复组成"
    if username and folded == username_key(username):
        return "密码不能与用户名相同"
    if folded in common_passwords():
        return "该密码过于常见，容易被猜中，请换一个"
    return None


# -- the organiser team -----------------------------------------------------------------------------

ORGANISER_ROLES = {"admin": "管理员", "staff": "工作人员", "viewer": "只读成员"}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The actions only an admin may take (routes as registered; "*" ends a prefix). Every organiser route
# not named here is open to staff; viewers may only read (SAFE_METHODS), wherever the route is.
ADMIN_ONLY: tuple[tuple[str, str], ...] = (
    ("POST", "/api/v1/admin/organisers"), ("PUT", "/api/v1/admin/organisers/*"),
    ("DELETE", "/api/v1/admin/organisers/*"), ("POST", "/admin/team*"),
    ("PUT", "/api/v1/admin/stages/{stage_id}"), ("POST", "/admin/stages/{stage_id}/window"),
    ("POST", "/admin/stages/{stage_id}/open"),
    ("POST", "/api/v1/admin/stages/{stage_id}/close"), ("POST", "/admin/stages/{stage_id}/close"),
    ("POST", "/api/v1/admin/notifications/awards"), ("POST", "/admin/notifications/awards"),
)
# Posts that read (an export is made from the data and changes none of it): open to viewers too.
READING_POSTS: tuple[tuple[str, str], ...] = (("POST", "/api/v1/admin/exports"), ("POST", "/admin/exports"))
# One's own account and session: every organiser may change those, whatever the role.
OWN_ACCOUNT = ("/account*", "/api/v1/account*", "/api/v1/sessions*", "/logout", "/login")


def _matches(rules: tuple[tuple[str, str], ...], method: str, route: str) -> bool:
    return any(method == m and _route_matches(pattern, route) for m, pattern in rules)


def _route_matches(pattern: str, route: str) -> bool:
    return route.startswith(pattern[:-1]) if pattern.endswith("*") else route == pattern


def own_account_route(route: str) -> bool:
    return any(_route_matches(p, route) for p in OWN_ACCOUNT)


def organiser_refusal(organiser_role: str | None, method: str, route: str) -> str | None:
    """Why an organiser of this role may not call `method route` (in Chinese), or None when allowed."""
    method = method.upper()
    if own_account_route(route):
        return None
    role = organiser_role if organiser_role in ORGANISER_ROLES else "viewer"
    if role == "admin":
        return None
    if role == "viewer" and method not in SAFE_METHODS and not _matches(READING_POSTS, method, route):
        return "只读成员只能查看，不能修改（如需修改请联系管理员）"
    if _matches(ADMIN_ONLY, method, route):
        return "只有管理员可以进行此操作（团队成员、阶段时间、关闭阶段、发送获奖通知）"
    return None


# -- login back-off ---------------------------------------------------------------------------------

def backoff_seconds(failures: int, free: int, longest: int) -> int:
    """How long to wait before the next attempt after `failures` failed ones: nothing for the first
    `free`, then 2 s, 4 s, 8 s … up to `longest`. Soft on purpose: a stranger's guesses slow the owner
    down for seconds to minutes, never lock the account."""
    if failures < free:
        return 0
    return min(2 ** min(failures - free + 1, 30), longest)
