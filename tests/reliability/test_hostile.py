"""Hostile input, property-tested on every adapter: each value round-trips exactly or is refused clearly.

A refusal is one of the library's clear errors (``InvalidStateError``,
``ConfigError``, ADK's ``InputValidationError``, or a ``ValueError`` whose
message names the problem) raised before anything is stored. Every value
carries a canary; a recording wrapper around each store's ``arun`` checks that
no canary ever appears in the text of a statement, i.e. nothing reaches SQL
unparameterized.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import math
import re
from typing import Any

import pytest
from google.adk.memory.memory_entry import MemoryEntry
from google.genai import types
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic_core import to_jsonable_python

from sqlspec_adk.converters import MAX_STATE_DEPTH
from sqlspec_adk.errors import ConfigError, InputValidationError, InvalidStateError
from sqlspec_adk.migrations import drop_tables
from tests.backends import ADAPTERS
from tests.helpers import event
from tests.reliability.conftest import HYPOTHESIS
from tests.reliability.support import Stack, Target, Watch, outcome

#: Clear refusals. ``InvalidStateError`` is a TypeError; ConfigError and InputValidationError are ValueErrors.
REFUSALS = (ValueError, InvalidStateError, ConfigError, InputValidationError)

SPECIAL = [
    "'",
    '"',
    "`",
    "\\",
    "%",
    "_",
    "*",
    "?",
    "$1",
    "%s",
    ":name",
    "--",
    "/*",
    ";",
    "\x00",
    "\u202e",
    "\ufeff",
    "\u200b",
    " ",
    "\t",
    "\n",
    "NEAR(",
    "AND",
    "OR NOT",
    "')",
    "'); DROP TABLE adk_session; --",
    "\U0001f600",
    "\U0001d54f",
    "東京",
    "é",
    "e\u0301",
    "İ",
    "ß",
    "ﬃ",
    "\ud800",
    "{}",
    "[]",
    "null",
    "\\u0000",
    "\U0010ffff",
]
any_char = st.characters(exclude_categories=())  # surrogates included
hostile_text = st.one_of(
    st.text(any_char, max_size=30),
    st.sampled_from(SPECIAL),
    st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=6).map("".join),
    st.tuples(st.text(any_char, min_size=1, max_size=4), st.integers(50, 700)).map(lambda pair: pair[0] * pair[1]),
)
_counter = itertools.count()


def canary() -> str:
    """A marker no statement text can contain unless a value was pasted into it."""
    return f"qzcanary{next(_counter):06d}x"


def with_canary(text: str) -> tuple[str, str]:
    mark = canary()
    return text + mark, mark


async def hostile_stack(backend: Any) -> tuple[Stack, Watch]:
    """One stack per test (the fixture's config, so it is closed at the end), every store watched."""
    cached: tuple[Stack, Watch] | None = getattr(backend, "_hostile_stack", None)
    if cached is None:
        stack = Stack(Target.of_backend(backend), config=backend.config())
        await stack.create_tables()
        watch = Watch()
        for store in (stack.sessions.store, stack.memory.store, stack.artifacts.store):
            watch.wrap(store)
        cached = (stack, watch)
        backend._hostile_stack = cached
    return cached


def assert_no_canary(watch: Watch, marks: list[str]) -> None:
    leaked = list(watch.sql_containing(marks))
    assert leaked == [], f"a value reached SQL text unparameterized: {leaked[:2]}"
    watch.statements.clear()


def assert_clear_refusal(error: BaseException) -> None:
    assert isinstance(error, REFUSALS), f"refused with {type(error).__module__}.{type(error).__name__}: {error}"
    assert str(error).strip(), f"refusal without a message: {error!r}"


def same(a: Any, b: Any) -> bool:
    """Exact JSON equality: same structure, same strings, ints stay ints, bools stay bools, floats equal."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, float):
        return isinstance(b, float) and a == b
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if a is None:
        return b is None
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return False


# --------------------------------------------------------------------------- ids
@HYPOTHESIS
@given(app=hostile_text, user=hostile_text, session_id=hostile_text)
@example(app="app", user="'; DROP TABLE x; --", session_id="%")
@example(app="\x00", user="u", session_id="s")
@example(app="a", user="\ud800", session_id="s")
@example(app="a", user="u", session_id="x" * 3000)
@example(app="\U00010000" * 635, user="\U00010000" * 700, session_id="\U00010000" * 700)  # over Spanner's 8 KiB key
async def test_ids_round_trip_or_are_refused(backend: Any, app: str, user: str, session_id: str) -> None:
    """App names, user ids and session ids: stored and found again exactly, or refused before any write.

    Shown to fail when the protection is removed (tried locally, then restored): paste the app name,
    even quote-escaped, into the list_sessions statement of ``BaseDialect.list_sessions`` instead of
    binding it: 'a value reached SQL text unparameterized'. Before fe41fe5, NUL (PostgreSQL family) and
    lone surrogates (mysql-connector, DuckDB) failed here with driver errors.
    """
    stack, watch = await hostile_stack(backend)
    (app, app_mark), (user, user_mark), (session_id, sid_mark) = map(with_canary, (app, user, session_id))
    marks = [app_mark, user_mark, sid_mark]
    service = stack.sessions
    try:
        created = await service.create_session(app_name=app, user_id=user, session_id=session_id, state={"k": app})
    except Exception as error:
        assert_clear_refusal(error)
        try:
            listed = (await service.list_sessions(app_name=app)).sessions
        except Exception as again:
            assert_clear_refusal(again)
        else:
            assert listed == [], "a refused create left a session behind"
        assert_no_canary(watch, marks)
        return
    expected_id = session_id.strip()
    assert (created.app_name, created.user_id, created.id) == (app, user, expected_id)
    await service.append_event(created, event("hello", delta={"user:u": user}))
    loaded = await service.get_session(app_name=app, user_id=user, session_id=expected_id)
    assert loaded is not None
    assert loaded.state == {"k": app, "user:u": user}
    assert [e.content.parts[0].text for e in loaded.events if e.content and e.content.parts] == ["hello"]
    listed = (await service.list_sessions(app_name=app, user_id=user)).sessions
    assert [(s.app_name, s.user_id, s.id) for s in listed] == [(app, user, expected_id)]
    await service.delete_session(app_name=app, user_id=user, session_id=expected_id)
    assert await service.get_session(app_name=app, user_id=user, session_id=expected_id) is None
    assert_no_canary(watch, marks)


# --------------------------------------------------------------------------- state
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    # Floats of 1e16 and more are covered by test_large_floats_keep_their_type (a known PostgreSQL gap).
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda number: abs(number) < 1e16),
    hostile_text,
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=12,
)
bad_leaf = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.binary(max_size=4),
    st.tuples(st.integers()),
    st.frozensets(st.integers(), max_size=2),
    st.datetimes(),
    st.just(decimal.Decimal("1.5")),
    st.builds(object),
)
state_value = st.one_of(
    json_value,
    st.recursive(bad_leaf, lambda children: st.lists(children, max_size=2) | st.dictionaries(st.text(), children)),
    st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2),
)
state_key = st.tuples(st.sampled_from(["", "app:", "user:", "temp:"]), hostile_text).map("".join)


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for index in range(depth):
        value = {"d": value} if index % 2 else [value]
    return value


def is_plain_json(value: Any, depth: int = 0) -> bool:
    """Plain JSON the database stores exactly: finite floats, str keys, nesting up to MAX_STATE_DEPTH."""
    if depth > MAX_STATE_DEPTH:
        return False
    if isinstance(value, str):
        return utf8(value)
    if value is None or isinstance(value, (bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(is_plain_json(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and utf8(k) and is_plain_json(v, depth + 1) for k, v in value.items())
    return False


def has_non_string_key(value: Any, depth: int = 0) -> bool:
    if depth > MAX_STATE_DEPTH + 1:
        return False
    if isinstance(value, dict):
        return any(not isinstance(k, str) or has_non_string_key(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_non_string_key(item, depth + 1) for item in value)
    return False


def as_adk_stores(value: Any) -> tuple[bool, Any]:
    """(storable, what is stored): ADK 2.13's persisted services' coercion (pydantic's ``to_jsonable_python``,
    unknown types as their repr), refusing what they corrupt or fail on (NaN, infinities, non-string keys,
    bytes that are not UTF-8, lone surrogates, nesting past MAX_STATE_DEPTH)."""
    if has_non_string_key(value):
        return False, None
    try:
        coerced = to_jsonable_python(value, serialize_unknown=True)
    except ValueError:  # bytes that are not UTF-8; nesting past pydantic's own limit
        return False, None
    return is_plain_json(coerced), coerced


def utf8(text: str) -> bool:
    """Whether ``text`` holds no lone surrogate (UTF-8 storage cannot hold one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@HYPOTHESIS
@given(state=st.dictionaries(state_key, state_value, max_size=4))
@example(state={"deep": nested(MAX_STATE_DEPTH)})
@example(state={"deeper": nested(MAX_STATE_DEPTH + 1)})
@example(state={"deepest": nested(300)})
@example(state={"big": 2**70, "tiny": 5e-324, "neg0": -0.0, "precise": 0.1 + 0.2})
@example(state={"nul": "a\x00b", "mark": "\U0010ffff", "escape": "\\u0000"})
@example(state={"surrogate": "\udc80"})
@example(state={"user:when": datetime.datetime(2024, 1, 1)})
@example(state={"large": "x" * 300_000})
async def test_state_round_trips_or_is_refused(backend: Any, state: dict[str, Any]) -> None:
    """Session, ``user:`` and ``app:`` state values (unicode, huge, deeply nested, NaN and infinities,
    non-JSON types) come back as ADK's persisted services store them (``temp:`` dropped; datetimes as ISO
    text, sets and tuples as lists, ...) or are refused with InvalidStateError before anything is
    written, on create_session and on append_event.

    Shown to fail when the protection is removed (tried locally, then restored): drop the
    ``math.isfinite`` check in ``converters.check_json_state`` and NaN is refused late, by
    ``json.dumps``, with a ValueError that names no key ('refused with builtins.ValueError: Out of
    range float values are not JSON compliant').
    """
    stack, watch = await hostile_stack(backend)
    service = stack.sessions
    app, app_mark = with_canary("app")
    user = "u"
    keyed = {key + (canary() if key.startswith(("app:", "user:")) else ""): value for key, value in state.items()}
    marks = [app_mark] + [m for key in keyed for m in re.findall(r"qzcanary\d+x", key)]
    stored = {key: as_adk_stores(value) for key, value in keyed.items() if not key.startswith("temp:")}
    plain = all(utf8(key) and ok for key, (ok, _) in stored.items())
    expected = {key: value for key, (_, value) in stored.items()}
    created, error = await outcome(service.create_session(app_name=app, user_id=user, session_id="s", state=keyed))
    if error is not None:
        assert not plain, f"plain JSON state was refused: {error!r}"
        assert isinstance(error, InvalidStateError), f"refused with {type(error).__name__}: {error}"
        assert await service.get_session(app_name=app, user_id=user, session_id="s") is None
        assert await service.get_user_state(app_name=app, user_id=user) == {}
    else:
        assert plain, f"non-JSON state was accepted: {keyed!r}"[:300]
        loaded = await service.get_session(app_name=app, user_id=user, session_id="s")
        assert loaded is not None and same(loaded.state, expected), f"{loaded.state!r} != {expected!r}"[:600]
        assert same(created.state, expected)
    session = await service.create_session(app_name=app, user_id=user, session_id="t")
    _, error = await outcome(service.append_event(session, event("x", delta=keyed)))
    if error is not None:
        assert not plain, f"plain JSON delta was refused: {error!r}"
        assert isinstance(error, InvalidStateError), f"refused with {type(error).__name__}: {error}"
        loaded = await service.get_session(app_name=app, user_id=user, session_id="t")
        assert loaded is not None and loaded.events == []
    else:
        assert plain
        loaded = await service.get_session(app_name=app, user_id=user, session_id="t")
        assert loaded is not None
        merged = {**{k: v for k, v in loaded.state.items()}}
        for key, value in expected.items():
            assert key in merged and same(merged[key], value), f"{key!r}: {merged.get(key)!r} != {value!r}"[:600]
        # The event is ADK's JSON, where bytes are base64 (Event's ser_json_bytes); a delta pydantic
        # cannot serialize is stored coerced like state instead, as DatabaseSessionService does.
        delta = {key: value for key, value in keyed.items() if not key.startswith("temp:")}
        try:
            event_form = to_jsonable_python(delta, bytes_mode="base64")
        except Exception:
            event_form = expected
        stored_delta = loaded.events[-1].actions.state_delta
        assert same(dict(stored_delta), event_form), "the event's delta did not round-trip"
    assert_no_canary(watch, marks)


async def test_large_floats_keep_their_type(backend: Any) -> None:
    """A float Python writes in exponent form (``1e+20``, ``1.7976931348623157e+308``) comes back as that
    float, in state and in an event's delta; JSONB would turn ``1e+20`` into an integer, so the library
    writes such numbers positionally with a fraction.
    """
    stack, _ = await hostile_stack(backend)
    state = {"e20": 1e20, "max": 1.7976931348623157e308, "neg": -3.5e300, "user:big": 2.5e17}
    app, _ = with_canary("floats")
    created = await stack.sessions.create_session(app_name=app, user_id="u", session_id="s", state=state)
    await stack.sessions.append_event(created, event("x", delta={"later": 1e19}))
    loaded = await stack.sessions.get_session(app_name=app, user_id="u", session_id="s")
    assert loaded is not None
    expected = {**state, "later": 1e19}
    assert same(loaded.state, expected), f"{loaded.state!r} != {expected!r}"
    assert same(dict(loaded.events[-1].actions.state_delta), {"later": 1e19})


# --------------------------------------------------------------------------- memory
@HYPOTHESIS
@given(query=hostile_text, note=hostile_text)
@example(query='"unclosed', note="NEAR(a b")
@example(query="%", note="_")
@example(query="*", note="e\u0301 café")
async def test_memory_queries_never_fail_and_stay_in_scope(backend: Any, query: str, note: str) -> None:
    """Any query text searches (never a syntax error); a stored note round-trips and is found by a
    query made of its distinctive word plus hostile text; another user never sees it.

    Shown to fail when the protection is removed (tried locally, then restored): split queries on
    whitespace instead of ``tokens.tokenize`` in ``query_tokens`` and a search for ``%`` fails
    ('search tokens must come from sqlspec_adk.tokens.query_tokens').
    """
    stack, watch = await hostile_stack(backend)
    memory = stack.memory
    user, user_mark = with_canary("user")
    word = f"zq{next(_counter)}word"
    text = f"{note} {word}"
    try:
        await memory.add_memory(
            app_name="mem",
            user_id=user,
            memories=[MemoryEntry(id=word, content=types.Content(role="user", parts=[types.Part(text=text)]))],
        )
    except Exception as error:  # e.g. a lone surrogate, which no JSON encoder writes as UTF-8
        assert_clear_refusal(error)
        assert (await memory.search_memory(app_name="mem", user_id=user, query=word)).memories == []
        assert_no_canary(watch, [user_mark])
        return
    for probe in (query, f"{query} {word}", f"{word}{query}"):
        found = await memory.search_memory(app_name="mem", user_id=user, query=probe)
        assert all(entry.id == word for entry in found.memories), "a search returned another user's memory"
    found = await memory.search_memory(app_name="mem", user_id=user, query=f"{query} {word}")
    assert [entry.id for entry in found.memories] == [word]
    assert found.memories[0].content.parts[0].text == text
    other = await memory.search_memory(app_name="mem", user_id=user + "x", query=word)
    assert other.memories == []
    assert_no_canary(watch, [user_mark])


# --------------------------------------------------------------------------- artifacts
@HYPOTHESIS
@given(filename=hostile_text, data=st.binary(max_size=3000), user_scoped=st.booleans())
@example(filename="../../etc/passwd", data=b"x", user_scoped=False)
@example(filename="a/b\\c", data=b"\x00\xff", user_scoped=True)
@example(filename="C:\\x", data=b"", user_scoped=False)
async def test_artifact_names_and_bytes_round_trip_or_are_refused(
    backend: Any, filename: str, data: bytes, user_scoped: bool
) -> None:
    """Artifact filenames and bytes: saved and loaded back exactly (listed under their name), or refused
    with ADK's InputValidationError before anything is stored.

    Shown to fail when the protection is removed: without the lone-surrogate check of ``ArtifactKey``
    (a466234; as before it) a filename like ``'\ud800x'`` fails with the driver's error (asyncpg
    ``DataError``, mysql-connector ``ProgrammingError``, DuckDB ``RuntimeError``), not InputValidationError.
    """
    stack, watch = await hostile_stack(backend)
    artifacts = stack.artifacts
    name, mark = with_canary(("user:" if user_scoped else "") + filename)
    app = f"art{next(_counter)}"
    part = types.Part(inline_data=types.Blob(mime_type="application/x-test", data=data))
    try:
        version = await artifacts.save_artifact(app_name=app, user_id="u", filename=name, session_id="s", artifact=part)
    except Exception as error:
        assert_clear_refusal(error)
        assert await artifacts.list_artifact_keys(app_name=app, user_id="u", session_id="s") == []
        assert_no_canary(watch, [mark])
        return
    assert version == 0
    loaded = await artifacts.load_artifact(app_name=app, user_id="u", filename=name, session_id="s")
    assert loaded is not None and loaded.inline_data is not None and loaded.inline_data.data == data
    assert await artifacts.list_artifact_keys(app_name=app, user_id="u", session_id="s") == [name]
    assert await artifacts.list_versions(app_name=app, user_id="u", filename=name, session_id="s") == [0]
    assert_no_canary(watch, [mark])


# --------------------------------------------------------------------------- config
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_CONFIG_CLASSES = {spec.name: spec for spec in ADAPTERS}


@HYPOTHESIS
@given(
    key=st.sampled_from(["session_table", "events_table", "memory_table", "artifact_table", "schema"]),
    name=st.one_of(hostile_text, st.from_regex(_IDENTIFIER, fullmatch=True)),
)
@example(key="session_table", name='x"; DROP TABLE y; --')
@example(key="session_table", name="a" * 64)
@example(key="events_table", name="select")
async def test_table_names_are_identifiers_or_refused(backend: Any, key: str, name: str) -> None:
    """A table (or schema) name that is not a plain identifier is a ConfigError naming the key, raised
    when the config is built, on every adapter; a plain identifier is accepted (schema: where supported).
    """
    config_cls = backend.spec.classes()[0]
    connection = backend.spec.connection(backend.tmp_path)
    try:
        config = config_cls(connection_config=connection, extension_config={"adk": {key: name}})
    except ConfigError as refused:
        error: ConfigError | None = refused
    else:
        error = None
    if error is not None:
        assert key in str(error), f"ConfigError does not name {key!r}: {error}"
        assert not _IDENTIFIER.fullmatch(name) or key == "schema", f"plain identifier {name!r} refused: {error}"
        return
    assert _IDENTIFIER.fullmatch(name), f"{key}={name!r} was accepted"
    assert getattr(config.adk, key) == name
    await backend.close_config(config)


_KEYWORDS = ["select", "order", "user", "group", "table", "from", "where", "limit", "key", "index", "values"]


async def test_keyword_and_mixed_case_table_names_work(backend: Any) -> None:
    """Tables named like SQL keywords (embedded databases) or in mixed case (servers) are quoted
    consistently: create, append, list, memory, artifacts all work.
    """
    suffix = canary()[-7:-1]
    if backend.spec.server:
        names = {
            "session_table": f"Order_{suffix}",
            "events_table": f"Select_{suffix}",
            "memory_table": f"Key_{suffix}",
        }
        names |= {"app_state_table": f"Group_{suffix}", "user_state_table": f"User_{suffix}"}
        names |= {"metadata_table": f"Meta_{suffix}", "artifact_table": f"Table_{suffix}"}
    else:
        names = dict(
            zip(
                [
                    "session_table",
                    "events_table",
                    "app_state_table",
                    "user_state_table",
                    "metadata_table",
                    "memory_table",
                    "artifact_table",
                ],
                _KEYWORDS,
                strict=False,
            )
        )
    target = Target.of_backend(backend)
    target = Target(target.adapter, target.connection, names, target.pool, target.artifact_uri)
    stack = Stack(target, config=backend.config(**{k: v for k, v in names.items() if k not in backend.tables}))
    try:
        await stack.create_tables()
        session = await stack.sessions.create_session(app_name="k", user_id="u", session_id="s", state={"a": 1})
        await stack.sessions.append_event(session, event("keyword tables", delta={"user:x": 1, "app:y": 2}))
        loaded = await stack.sessions.get_session(app_name="k", user_id="u", session_id="s")
        assert loaded is not None and loaded.state == {"a": 1, "user:x": 1, "app:y": 2}
        assert len((await stack.sessions.list_sessions(app_name="k")).sessions) == 1
        await stack.memory.add_session_to_memory(loaded)
        assert (await stack.memory.search_memory(app_name="k", user_id="u", query="keyword")).memories
        part = types.Part(text="t")
        assert await stack.artifacts.save_artifact(app_name="k", user_id="u", filename="f", artifact=part) == 0
    finally:
        await drop_tables(stack.config)


@pytest.mark.parametrize(
    "column",
    [
        "tenant INTEGER; DROP TABLE x",
        "tenant INTEGER -- x",
        "tenant INTEGER /* x */",
        "a INT, b INT",
        "",
        "   ",
        "1x INT",
    ],
)
def test_owner_id_column_is_one_column_or_refused(column: str) -> None:
    """``owner_id_column`` ends up in DDL: anything but exactly one column definition is a ConfigError."""
    from sqlspec_adk.settings import ADKConfig

    with pytest.raises(ConfigError, match="owner_id_column"):
        ADKConfig.from_mapping({"owner_id_column": column})
