"""What a path (or a method) that no route has gets: the app's own Chinese 404, never API Gateway's
`{"message": "Missing Authentication Token"}` (which chalice local copies).

- `/api/…`: the contract's error shape, `{"error": {"code": "not_found", "message": API_MESSAGE}}`.
- any other path: the pages' error page (404, 没有找到) with PAGE_MESSAGE and a link to the home page.

Where each answer is made:
- chalice local (`make run`): scripts/chalice_local.py hands every unrouted request to `lambda_response`.
- AWS: API Gateway answers unrouted requests itself, before any Lambda runs, and a gateway response cannot
  pick its body by path. infra/build_template.py sets MISSING_AUTHENTICATION_TOKEN (an unknown path or a method
  a path lacks) to 404 with the JSON shape above for every path (its message reads for a person who typed a
  wrong page address too), REQUEST_TOO_LARGE and THROTTLED to the contract's 413 / 429, and DEFAULT_4XX /
  DEFAULT_5XX (API Gateway's other refusals, a timed-out function) to Chinese bodies of the same shape
  (`gateway_responses`).
- Inside the app: Chalice's own English refusals (405 for a method a route lacks, 415 for a content type a
  route does not take, 400 for a download without an Accept header) become the same answers through the
  middleware `chalice_errors_in_chinese` (registered in app.py).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

from chalice import Response

from .http import SECURITY_HEADERS, json_response

log = logging.getLogger("saiping")

API_MESSAGE = "没有这个地址：请检查网址（和请求方法）是否正确，或从首页重新进入"
PAGE_MESSAGE = "没有这个页面：网址可能输错了，或页面已不存在。请从首页重新进入。"
GATEWAY_4XX = ("invalid", "请求未被受理：请检查网址和提交的内容后重试")
GATEWAY_TOO_LARGE = ("too_large", "请求过大（单次请求不超过 10 MB；附件请用页面上的上传）")
GATEWAY_THROTTLED = ("rate_limited", "请求过于频繁，请稍后重试")
GATEWAY_5XX = ("unavailable", "服务暂时繁忙，请稍后重试")


def is_api(path: str) -> bool:
    return path.split("?", 1)[0].rstrip("/") == "/api" or path.startswith("/api/")


def error_json(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)


def response(path: str) -> Response:
    """The 404 of an unrouted `path`: JSON under /api/, the HTML error page elsewhere."""
    if is_api(path):
        return json_response(404, {"error": {"code": "not_found", "message": API_MESSAGE}})
    try:
        from .html import error_page
        return error_page(404, PAGE_MESSAGE)
    except Exception:  # the page needs the competition's config; a 404 must not become a 500
        log.exception("the 404 page could not be rendered")
        return Response(body=PAGE_MESSAGE, status_code=404,
                        headers={"Content-Type": "text/plain; charset=utf-8", **SECURITY_HEADERS})


# Chalice's own refusals (app.py registers the middleware below): English bodies {"Code", "Message"}.
CHALICE_ERRORS = {
    "MethodNotAllowedError": None,        # a method the route lacks: the unrouted 404, as API Gateway answers it
    "UnsupportedMediaType": "提交的内容类型不受支持：接口请用 JSON（application/json），页面请从表单提交",
    "BadRequest": "这是一个文件下载：请在页面上点击下载（请求须带 Accept 头）",
}


def chalice_errors_in_chinese(request: Any, get_response: Callable[[Any], Response]) -> Response:
    """An http middleware: chalice's English 405 / 415 / 400 (binary download without Accept) become the app's
    own answers — the 404 above, or the error shape (API) / error page (pages) with a Chinese message."""
    answer = get_response(request)
    body = answer.body
    if (answer.status_code not in (400, 405, 415) or not isinstance(body, dict)
            or body.get("Code") not in CHALICE_ERRORS):
        return answer
    path = getattr(request, "path", "") or ""
    message = CHALICE_ERRORS[body["Code"]]
    if message is None:
        return response(path)
    if is_api(path):
        return json_response(answer.status_code, {"error": {"code": "invalid", "message": message}})
    from .html import error_page
    return error_page(answer.status_code, message)


def lambda_response(path: str, binary_types: list[str]) -> dict[str, Any]:
    """`response(path)` as a Lambda proxy result (what chalice local's gateway sends back)."""
    return response(path).to_dict(binary_types)


def _gateway_response(status: str | None, code: str, message: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ResponseParameters": {"Headers": {
            "Content-Type": "'application/json; charset=utf-8'", "X-Content-Type-Options": "'nosniff'",
            "Cache-Control": "'no-store'"}},
        "ResponseTemplates": {"application/json": error_json(code, message)},
    }
    if status:
        entry["StatusCode"] = status
    return entry


def gateway_responses() -> dict[str, dict[str, Any]]:
    """SAM's `GatewayResponses` of the REST API (AWS::Serverless::Api): what API Gateway answers by itself.
    DEFAULT_4XX and DEFAULT_5XX keep each refusal's own status (413, 429, 504, …)."""
    return {
        "MISSING_AUTHENTICATION_TOKEN": _gateway_response("404", "not_found", API_MESSAGE),
        "REQUEST_TOO_LARGE": _gateway_response("413", *GATEWAY_TOO_LARGE),
        "THROTTLED": _gateway_response("429", *GATEWAY_THROTTLED),
        "DEFAULT_4XX": _gateway_response(None, *GATEWAY_4XX),
        "DEFAULT_5XX": _gateway_response(None, *GATEWAY_5XX),
    }
