"""Pure conversions: state split/merge, JSON checks, markers, placeholders."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqlspec_adk.converters import (
    check_json_state,
    from_marker,
    merge_state,
    positional_floats,
    split_state,
    to_marker,
)
from sqlspec_adk.errors import InvalidStateError
from sqlspec_adk.paramstyle import dollar, format_percent


def test_split_and_merge_round_trip() -> None:
    delta = split_state({"a": 1, "app:b": 2, "user:c": None, "temp:d": 4})
    assert delta.session == {"a": 1}
    assert delta.app == {"b": 2}
    assert delta.user == {"c": None}
    assert merge_state(delta.session, delta.app, delta.user) == {"a": 1, "app:b": 2, "user:c": None}
    assert not split_state({"temp:x": object()})  # temp values are never checked or stored


def test_json_check_names_the_path() -> None:
    with pytest.raises(InvalidStateError, match=r"k\.inner\[1\]"):
        check_json_state({"inner": [1, float("nan")]}, "k")
    with pytest.raises(InvalidStateError, match="non-string key"):
        split_state({"k": {2: "x"}})
    deep: object = 1
    for _ in range(300):
        deep = [deep]
    with pytest.raises(InvalidStateError, match="deeper"):
        check_json_state(deep, "k")


def test_markers() -> None:
    assert from_marker(to_marker(5)) == 5
    assert from_marker(None) is None
    assert from_marker("2024-01-01T00:00:00") is None


def test_placeholder_rewrites_skip_quotes() -> None:
    sql = "SELECT '?', \"a?\" FROM t WHERE a = ? AND b LIKE '%x' AND c = ?"
    assert dollar(sql) == "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b LIKE '%x' AND c = $2"
    assert format_percent(sql) == "SELECT '?', \"a?\" FROM t WHERE a = %s AND b LIKE '%%x' AND c = %s"


@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    text=st.text(alphabet=st.sampled_from('e+E1.0"\\ -'), max_size=12),
)
def test_positional_floats_keep_every_float_and_string(value: float, text: str) -> None:
    encoded = positional_floats(json.dumps({"v": [value, -value], text: text}))
    assert "e+" not in encoded.replace(json.dumps(text), "")  # only inside the strings, if at all
    decoded = json.loads(encoded)
    assert decoded[text] == text
    for got, want in zip(decoded["v"], [value, -value], strict=True):
        assert type(got) is float and (got == want) and math.copysign(1, got) == math.copysign(1, want)


def test_positional_floats_write_big_exponents_out() -> None:
    assert positional_floats('{"a":1e+20,"b":"1e+20","c":-2.5e+17,"d":1e-07}') == (
        '{"a":100000000000000000000.0,"b":"1e+20","c":-250000000000000000.0,"d":1e-07}'
    )
