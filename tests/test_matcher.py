"""The route matcher and converters are pure logic: tested without a client or event loop."""

import uuid
from typing import Any

import pytest

from brace.core.converters import CONVERTERS, NO_MATCH
from brace.core.matcher import NOT_FOUND, Endpoint, Matcher, RouteConflict
from brace.routing import Route, parse_path


def found(matcher: Matcher, method: str, path: str) -> tuple[Any, Any]:
    """The target and values of a full match (the endpoint is checked by the 405 tests)."""
    result = matcher.find(method, path)
    assert result.target is not None and result.endpoint is not None
    return result.target, result.values


def handler() -> None: ...


def build(*paths: str, method: str = "GET") -> Matcher:
    matcher = Matcher()
    for path in paths:
        matcher.add(Route(path, handler, methods=[method]), path, [method])
    return matcher


def test_static_paths_match_by_exact_lookup() -> None:
    matcher = build("/", "/about", "/about/team")
    assert found(matcher, "GET", "/about") == ("/about", ())
    assert found(matcher, "GET", "/") == ("/", ())
    assert matcher.find("GET", "/about/") is NOT_FOUND
    assert matcher.find("GET", "/nope") is NOT_FOUND


def test_dynamic_paths_return_converted_values_in_order() -> None:
    matcher = build("/users/{id:int}/posts/{slug:slug}")
    target, values = found(matcher, "GET", "/users/42/posts/hello-world")
    assert target == "/users/{id:int}/posts/{slug:slug}"
    assert list(values) == [42, "hello-world"]


@pytest.mark.parametrize(
    ("converter", "segment", "expected"),
    [
        ("int", "42", 42),
        ("int", "-1", NO_MATCH),
        ("int", "4.2", NO_MATCH),
        ("int", "²", NO_MATCH),  # unicode digits are not ASCII digits
        ("int", "9" * 5000, NO_MATCH),  # longer than Python will parse: no match, not a 500
        ("float", "4.5", 4.5),
        ("float", "nan", NO_MATCH),
        ("float", "1e999", NO_MATCH),
        (
            "uuid",
            "12345678-1234-5678-1234-567812345678",
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
        ),
        ("uuid", "not-a-uuid", NO_MATCH),
        ("slug", "a-b_c", "a-b_c"),
        ("slug", "a b", NO_MATCH),
        ("slug", "<script>", NO_MATCH),
        ("str", "anything here", "anything here"),
        ("str", "", NO_MATCH),
    ],
)
def test_converters(converter: str, segment: str, expected: object) -> None:
    assert CONVERTERS[converter].convert(segment) == expected


def test_more_specific_converters_win_and_static_beats_dynamic() -> None:
    matcher = Matcher()
    for path in ("/items/{name}", "/items/{id:int}", "/items/new", "/items/{slug:slug}"):
        matcher.add(Route(path, handler), path, ["GET"])
    assert matcher.find("GET", "/items/new").target == "/items/new"
    assert matcher.find("GET", "/items/7").target == "/items/{id:int}"
    assert matcher.find("GET", "/items/a-b").target == "/items/{slug:slug}"
    assert matcher.find("GET", "/items/a b").target == "/items/{name}"


def test_backtracks_when_a_deeper_segment_fails() -> None:
    matcher = build("/a/{x:int}/edit", "/a/{name}/view")
    assert found(matcher, "GET", "/a/5/view") == ("/a/{name}/view", ["5"])


def test_method_aware_matching_falls_through_to_a_route_that_has_the_method() -> None:
    matcher = Matcher()
    matcher.add(Route("/users/me", handler), "static", ["GET"])
    matcher.add(Route("/users/{id}", handler, methods=["POST"]), "dynamic", ["POST"])
    assert found(matcher, "POST", "/users/me") == ("dynamic", ["me"])
    assert found(matcher, "GET", "/users/me") == ("static", ())


def test_path_known_but_method_not_returns_the_endpoint_for_405() -> None:
    matcher = build("/things/{id:int}")
    result = matcher.find("DELETE", "/things/3")
    assert result.target is None
    assert isinstance(result.endpoint, Endpoint)
    assert result.endpoint.allow == ["GET"]


def test_path_converter_takes_the_rest_of_the_path() -> None:
    matcher = build("/files/{rest:path}")
    assert found(matcher, "GET", "/files/a/b/c.txt") == ("/files/{rest:path}", ["a/b/c.txt"])
    assert found(matcher, "GET", "/files/") == ("/files/{rest:path}", [""])


def test_same_shape_and_method_conflict_names_both_routes() -> None:
    matcher = Matcher()
    matcher.add(Route("/u/{id:int}", handler), 1, ["GET"])
    with pytest.raises(RouteConflict) as info:
        matcher.add(Route("/u/{uid:int}", handler), 2, ["GET"])
    message = str(info.value)
    assert "/u/{uid:int}" in message and "/u/{id:int}" in message


def test_same_shape_different_methods_is_fine() -> None:
    matcher = Matcher()
    matcher.add(Route("/u/{id:int}", handler), "get", ["GET"])
    matcher.add(Route("/u/{uid:int}", handler, methods=["DELETE"]), "delete", ["DELETE"])
    assert found(matcher, "DELETE", "/u/1") == ("delete", [1])


def test_lookup_cost_does_not_depend_on_route_count() -> None:
    matcher = build(*(f"/r{i}/{{id:int}}/items" for i in range(1000)))
    # The tree has one branch per static first segment: a lookup visits 3 nodes, whatever
    # the number of routes. Checked structurally rather than by timing.
    assert found(matcher, "GET", "/r999/5/items") == ("/r999/{id:int}/items", [5])
    assert found(matcher, "GET", "/r0/5/items") == ("/r0/{id:int}/items", [5])
    assert matcher.find("GET", "/r1000/5/items") is NOT_FOUND


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("users", "must start with '/'"),
        ("/users/{id:nope}", "unknown converter 'nope'"),
        ("/users/{id}/{id}", "appears twice"),
        ("/files/{p:path}/edit", "must be the last segment"),
        ("/users/x{id}", "exactly one parameter"),
        ("/users/{1x}", "exactly one parameter"),
    ],
)
def test_bad_paths_fail_loudly(path: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_path(path)


def test_route_match_and_url_path_for() -> None:
    route = Route("/users/{id:int}/files/{name:path}", handler)
    assert route.match("/users/3/files/a/b.txt") == {"id": 3, "name": "a/b.txt"}
    assert route.match("/users/x/files/a") is None
    assert route.url_path_for(id=3, name="a b/c.txt") == "/users/3/files/a%20b/c.txt"
