"""The OpenAPI document: valid OpenAPI 3.0, and it covers every route of the contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from leaderboard.http.parse import IDEMPOTENCY_KEY
from leaderboard.http.routes import ROUTES as SERVED

REPO = Path(__file__).parents[2]
DOCUMENT = REPO / "leaderboard" / "http" / "openapi.json"
SPEC = Path(__file__).parents[3] / "shared" / "spec" / "api-v1.md"

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# Every route of the contract (api-v1.md, v1.1, and what is built of v1.2): the primary check.
ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/"),  # issue 21: where the pages are
    ("GET", "/boards/{board}"),
    ("GET", "/v1/boards"),
    ("PUT", "/v1/boards/{board}"),
    ("GET", "/v1/boards/{board}"),
    ("DELETE", "/v1/boards/{board}"),
    ("POST", "/v1/boards/{board}/scores"),
    ("POST", "/v1/boards/{board}/scores/batch"),
    ("GET", "/v1/boards/{board}/top"),
    ("GET", "/v1/boards/{board}/players"),
    ("GET", "/v1/boards/{board}/players/{player_id}"),
    ("DELETE", "/v1/boards/{board}/players/{player_id}"),
    ("GET", "/v1/boards/{board}/players/{player_id}/around"),
    ("GET", "/v1/boards/{board}/events"),
    ("GET", "/v1/boards/{board}/events/stream"),
    ("POST", "/v1/admin/cleanup"),
    ("POST", "/v1/boards/{board}/reset"),
    ("GET", "/v1/boards/{board}/periods"),
}

# Routes of the contract neither served nor documented yet: each leaves this set when built.
NOT_YET_BUILT: set[tuple[str, str]] = set()

TABLE_ROW = re.compile(r"^\|\s*`(GET|PUT|POST|DELETE|PATCH) (/[^`\s]*)`\s*\|", re.MULTILINE)
MENTION = re.compile(r"`(GET|PUT|POST|DELETE|PATCH) (/[^`\s]*)`")

SCHEMAS = (
    "BoardConfig",
    "BoardPut",
    "Board",
    "ScoreUpdate",
    "ScoreResult",
    "BatchRequest",
    "BatchResult",
    "Entry",
    "TopPage",
    "PlayerView",
    "AroundWindow",
    "Event",
    "EventsPage",
    "CleanupRequest",
    "CleanupResult",
    "Error",
)

ERROR_CODES = {
    "invalid_json": "400",
    "unauthorized": "401",
    "forbidden": "403",
    "invalid_request": "400",
    "unknown_region": "400",
    "board_not_found": "404",
    "player_not_found": "404",
    "period_not_found": "404",
    "not_found": "404",
    "method_not_allowed": "405",
    "region_in_use": "409",
    "board_not_empty": "409",
    "score_out_of_range": "409",
    "idempotency_key_reused": "409",
    "payload_too_large": "413",
    "unsupported_media_type": "415",
    "rate_limited": "429",
    "redis_unavailable": "503",
}

MAX_SCORE = 2**53 - 1


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def operations(doc: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }


def deref(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_document_is_valid_openapi_3_0(doc: dict) -> None:
    assert doc["openapi"] == "3.0.3"
    validate(doc)


def test_document_is_two_space_indented_json() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_every_contract_route_is_documented(doc: dict) -> None:
    missing = ROUTES - operations(doc)
    assert not missing, sorted(missing)


def test_no_route_outside_the_contract(doc: dict) -> None:
    extra = operations(doc) - ROUTES
    assert not extra, sorted(extra)


@pytest.mark.skipif(not SPEC.exists(), reason="the contract text is not next to the repository")
def test_every_route_in_the_spec_tables_is_documented(doc: dict) -> None:
    text = SPEC.read_text(encoding="utf-8")
    in_tables = {(m, p) for m, p in TABLE_ROW.findall(text)}
    assert len(in_tables) >= 11, "the spec's route tables were not recognised"
    missing = in_tables - operations(doc)
    assert not missing, sorted(missing)
    mentioned = {(m, p) for m, p in MENTION.findall(text)}
    missing = mentioned - operations(doc)
    assert missing == NOT_YET_BUILT, sorted(missing ^ NOT_YET_BUILT)


def test_routes_not_yet_built_are_not_served() -> None:
    served = {(route.method, route.path) for route in SERVED}
    assert not served & NOT_YET_BUILT, "document it and take it out of NOT_YET_BUILT"


def test_every_operation_has_a_unique_id_and_a_description(doc: dict) -> None:
    ids = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            assert op.get("operationId"), f"{method.upper()} {path} has no operationId"
            assert op.get("description", "").strip(), f"{method.upper()} {path}: no description"
            ids.append(op["operationId"])
    assert len(ids) == len(set(ids))


def test_required_components_exist(doc: dict) -> None:
    schemas = doc["components"]["schemas"]
    for name in SCHEMAS:
        assert name in schemas, name
    assert doc["components"]["responses"]


def test_error_shape_and_codes(doc: dict) -> None:
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    inner = error["properties"]["error"]
    assert set(inner["required"]) == {"code", "message"}
    assert set(inner["properties"]) == {"code", "message", "details"}
    code = inner["properties"]["code"]
    assert set(code["enum"]) == set(ERROR_CODES)
    for name, status in ERROR_CODES.items():
        assert f"`{name}` ({status})" in code["description"], name


def test_each_error_code_is_named_in_a_response_of_its_status(doc: dict) -> None:
    described: dict[str, str] = {}
    for item in doc["paths"].values():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for status, response in op["responses"].items():
                described[status] = described.get(status, "") + deref(doc, response)["description"]
    # Unknown routes and methods belong to no operation: their responses are components.
    responses = doc["components"]["responses"]
    described["404"] += responses["NotFound"]["description"]
    described["405"] = responses["MethodNotAllowed"]["description"]
    for name, status in ERROR_CODES.items():
        assert f"`{name}`" in described.get(status, ""), f"{name} not described under {status}"


def test_score_limits_and_id_patterns(doc: dict) -> None:
    s = doc["components"]["schemas"]
    assert s["Score"]["type"] == "integer"
    assert s["Score"]["minimum"] == -MAX_SCORE
    assert s["Score"]["maximum"] == MAX_SCORE
    assert s["BoardId"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
    assert s["RegionName"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,31}$"
    assert s["RegionName"]["not"] == {"enum": ["global"]}
    assert s["PlayerId"]["pattern"] == "^[A-Za-z0-9_.:@-]{1,64}$"
    assert (s["DisplayName"]["minLength"], s["DisplayName"]["maxLength"]) == (1, 64)
    updates = s["BatchRequest"]["properties"]["updates"]
    assert (updates["minItems"], updates["maxItems"]) == (1, 10000)
    assert s["BoardPut"]["required"] == ["regions"]
    assert s["ScoreUpdate"]["required"] == ["player_id", "region", "score"]


def test_query_parameter_bounds(doc: dict) -> None:
    def params(path: str) -> dict[str, dict]:
        op = doc["paths"][path]["get"]
        found = {}
        for p in op.get("parameters", []):
            p = deref(doc, p)
            found[p["name"]] = deref(doc, p["schema"])
        return found

    top = params("/v1/boards/{board}/top")
    assert top["scope"]["default"] == "global"
    assert (top["limit"]["minimum"], top["limit"]["maximum"], top["limit"]["default"]) == (
        1,
        1000,
        100,
    )
    assert (top["offset"]["minimum"], top["offset"]["default"]) == (0, 0)
    around = params("/v1/boards/{board}/players/{player_id}/around")
    assert (around["radius"]["minimum"], around["radius"]["maximum"]) == (0, 100)
    assert around["radius"]["default"] == 10
    events = params("/v1/boards/{board}/events")
    assert events["after"]["default"] == "0"
    assert (events["limit"]["minimum"], events["limit"]["maximum"]) == (1, 1000)
    assert events["limit"]["default"] == 100


def test_media_types(doc: dict) -> None:
    paths = doc["paths"]
    assert "text/plain" in paths["/metrics"]["get"]["responses"]["200"]["content"]
    stream = paths["/v1/boards/{board}/events/stream"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    headers = [deref(doc, p) for p in stream["parameters"]]
    assert any(p["in"] == "header" and p["name"] == "Last-Event-ID" for p in headers)
    put = paths["/v1/boards/{board}"]["put"]["responses"]
    assert {"200", "201"} <= set(put)
    assert "204" in paths["/v1/boards/{board}"]["delete"]["responses"]
    assert "204" in paths["/v1/boards/{board}/players/{player_id}"]["delete"]["responses"]


def test_a_region_or_scope_in_a_request_is_any_string(doc: dict) -> None:
    """Any string that is not one of the board's regions is 400 `unknown_region`, whatever its
    form: a pattern on the request would promise a different answer for some of them."""
    region = deref(doc, doc["components"]["schemas"]["ScoreUpdate"]["properties"]["region"])
    scope = deref(doc, deref(doc, doc["components"]["parameters"]["Scope"])["schema"])
    for schema in (region, scope):
        assert schema["type"] == "string"
        assert not {"pattern", "minLength", "maxLength", "not", "enum"} & set(schema)


def test_after_and_last_event_id_share_the_stream_id_rule(doc: dict) -> None:
    """The service takes the same ids for both: `<ms>` or `<ms>-<seq>`, each part an
    integer of at most 20 digits and at most 2^64 - 1."""
    after = deref(doc, doc["components"]["parameters"]["After"])["schema"]
    stream = doc["paths"]["/v1/boards/{board}/events/stream"]["get"]
    last = next(
        deref(doc, p) for p in stream["parameters"] if deref(doc, p)["name"] == "Last-Event-ID"
    )["schema"]
    assert after["default"] == "0"
    rule = deref(doc, after["allOf"][0])
    assert deref(doc, last) == rule
    assert rule["pattern"] == "^[0-9]{1,20}(-[0-9]{1,20})?$"
    assert str(2**64 - 1) in rule["description"]


def test_writes_take_an_idempotency_key_with_the_rule_the_server_checks(doc: dict) -> None:
    for path in ("/v1/boards/{board}/scores", "/v1/boards/{board}/scores/batch"):
        op = doc["paths"][path]["post"]
        [param] = [deref(doc, p) for p in op["parameters"]]
        assert (param["name"], param["in"]) == ("Idempotency-Key", "header")
        assert param["schema"]["pattern"] == f"^{IDEMPOTENCY_KEY.pattern}$"
        assert op["responses"]["200"]["headers"]["Idempotent-Replayed"]
