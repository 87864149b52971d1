from tests.conftest import case_body, register_unit


def test_register_create_submit(api):
    token = register_unit(api)
    unit = api.as_(token)
    status, case = unit.call("POST", "/cases", case_body())
    assert status == 201, case
    status, case2 = unit.call("PUT", f"/cases/{case['id']}", {**case_body(title="新标题"), "version": 1})
    assert status == 200, case2
    assert case2["version"] == 2 and case2["history"] == [1]
    status, sub = unit.call("POST", f"/cases/{case['id']}/submit")
    assert status == 200, sub
    assert sub["status"] == "submitted"
    status, lst = unit.call("GET", "/cases")
    assert [c["id"] for c in lst["cases"]] == [case["id"]]
