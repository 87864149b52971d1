"""A browser over chalice's test client for the page tests: keeps cookies, posts forms, reads CSRF tokens."""
from __future__ import annotations

import html as htmllib
import re
from urllib.parse import unquote, urlencode, urlsplit

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Browser:
    """A cookie jar over the test client: sends back the cookies it was given, like a browser."""

    def __init__(self, client):
        self.http = client.http
        self.jar: dict[str, str] = {}

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        return headers

    def _keep(self, response):
        for cookie in set_cookies(response):
            name, _, rest = cookie.partition("=")
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = rest.split(";")[0]
        return response

    def get(self, path: str, headers: dict[str, str] | None = None):
        return self._keep(self.http.get(path, headers=self._headers(headers)))

    def post(self, path: str, fields=None, raw: bytes | None = None):
        body = raw if raw is not None else urlencode(fields or {}, doseq=True).encode()
        return self._keep(self.http.post(path, headers=self._headers(FORM), body=body))


def set_cookies(response) -> list[str]:
    raw = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
    return raw if isinstance(raw, list) else ([raw] if raw else [])


def text(response) -> str:
    return response.body.decode("utf-8")


def csrf_of(page: str) -> str:
    return htmllib.unescape(re.search(r'name="csrf_token" value="([^"]*)"', page).group(1))


def followed_download(response) -> tuple[bytes, str]:
    """What a click on a download link saves: the page answers 302 to a presigned S3 GET; the object it names
    (read from the emulator) and the Content-Disposition S3 will answer with."""
    assert response.status_code == 302, (response.status_code, response.body[:200])
    parts = urlsplit(response.headers["Location"])
    assert "X-Amz-Signature=" in parts.query, parts
    key = unquote(parts.path.lstrip("/"))
    disposition = unquote(parts.query.split("response-content-disposition=", 1)[1].split("&", 1)[0])

    from chalicelib import bootstrap
    data = bootstrap.s3().get_object(Bucket=bootstrap.config().bucket, Key=key)["Body"].read()
    return data, disposition
