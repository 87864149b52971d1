"""Organiser team members for tests: invited by an admin through the API, the password set through the
invitation mail's link, then logged in."""
from __future__ import annotations

from tests.integration import mailbox

MEMBER_PASSWORD = "member-secret-2023"


def invitation_token(username: str) -> str:
    """The /reset/{token} of the newest invitation mail sent to <username>@example.gov.cn."""
    for message in reversed(mailbox.ses_messages()):
        if message["To"] == f"{username}@example.gov.cn" and "邀请" in message["Subject"]:
            _, html = mailbox.bodies(message)
            return next(link for link in mailbox.links(html) if "/reset/" in link).rsplit("/reset/", 1)[1]
    raise AssertionError(f"no invitation mail to {username}")


def member(api, admin, username: str, role: str) -> str:
    """A session token of a new team member with `role`."""
    status, data = admin.call("POST", "/admin/organisers", {"username": username, "name": f"{role}成员",
                                                             "email": f"{username}@example.gov.cn", "role": role})
    assert status == 201, data
    status, data = api.call("POST", f"/password-resets/{invitation_token(username)}", {"password": MEMBER_PASSWORD})
    assert status == 200, data
    status, data = api.call("POST", "/sessions", {"username": username, "password": MEMBER_PASSWORD})
    assert status == 200, data
    return data["token"]
