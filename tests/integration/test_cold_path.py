"""What a page's first request does not pay for: with the stack's UPLOAD_ORIGIN (infra/base.json) the pages'
CSP names the bucket's origin without building an S3 client (its service model is the largest botocore loads)."""
from __future__ import annotations

ORIGIN = "https://saiping-dev-files-123456789012-cn-north-1.s3.cn-north-1.amazonaws.com.cn"


def test_page_names_the_upload_origin_without_an_s3_client(monkeypatch, aws):
    monkeypatch.setenv("UPLOAD_ORIGIN", ORIGIN + "/")
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap
    from tests.conftest import start_competition
    bootstrap.reset()
    start_competition()
    bootstrap.s3.cache_clear()
    with Client(app) as client:
        response = client.http.get("/login")
    assert response.status_code == 200
    assert f"connect-src 'self' {ORIGIN};" in response.headers["Content-Security-Policy"]
    assert bootstrap.s3.cache_info().currsize == 0
