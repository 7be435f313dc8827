"""MySQL/MariaDB family behaviour on a live server, once per driver (aiomysql, asyncmy, pymysql, mysqlconnector)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pymysql
import pytest
from google.adk.errors import StaleSessionError

from benchmarks.counting import intercept
from sqlspec_adk.adapters._mysql import error_code
from sqlspec_adk.migrations import LATEST_VERSION
from sqlspec_adk.modes import call
from sqlspec_adk.protocol import Fetch, Op, Operation, Stmt, operation
from tests.backends import MYSQL_DSN, _mysql_connection
from tests.conftest import Backend
from tests.helpers import event, raw

APP = "app"
USER = "alice"


def admin_connection() -> Any:
    return pymysql.connect(**_mysql_connection(MYSQL_DSN, "database"), charset="utf8mb4", autocommit=True)


def admin_query(admin: Any, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with admin.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


async def run_op(config: Any, build: Callable[[], Op[Any]], *, write: bool) -> Any:
    """Run a hand-written operation (rebuilt from ``build`` on every attempt) on ``config``."""
    return await config.arun(operation("test_op", build, write=write))


async def connection_id(config: Any) -> int:
    row = await raw(config, "SELECT CONNECTION_ID()", fetch=Fetch.ONE)
    return int(row[0])


async def is_mariadb(config: Any) -> bool:
    row = await raw(config, "SELECT VERSION()", fetch=Fetch.ONE)
    return "mariadb" in str(row[0]).lower()


def attempts(config: Any) -> list[str]:
    """The name of every attempt (a fresh build) of every operation ``config`` runs from now on."""
    seen: list[str] = []

    def record(op: Op[Any], made: Operation[Any]) -> Op[Any]:
        seen.append(made.name)
        return op

    intercept(config, record)
    return seen


def one_connection(mysql: Backend) -> dict[str, Any]:
    return {"maxsize": 1, "minsize": 1} if mysql.spec.name in ("aiomysql", "asyncmy") else {"max_size": 1}


def config_with_pool(mysql: Backend, pool: dict[str, Any], **adk: Any) -> Any:
    config_cls = mysql.spec.classes()[0]
    config = config_cls(
        connection_config=mysql.spec.connection(mysql.tmp_path),
        pool_config=pool,
        extension_config={"adk": {**mysql.tables, **adk}},
    )
    mysql._configs.append(config)
    return config


# ----------------------------------------------------------------- schema
async def test_schema_on_the_live_server(mysql: Backend, admin: Any) -> None:
    service = await mysql.sessions()
    assert await call(service.store.create_tables) == LATEST_VERSION  # idempotent: a second run changes nothing
    await mysql.memory_store()
    dialect = service.store.dialect
    created = admin_query(admin, f"SHOW CREATE TABLE {dialect.session_table}")[0][1]
    exact = "utf8mb4_nopad_bin" if await is_mariadb(service.store.config) else "utf8mb4_0900_bin"
    id_line = next(line for line in created.splitlines() if line.strip().startswith("`id`"))
    assert exact in id_line
    assert "json_valid(`state`)" in created.lower()
    assert "CHARSET=utf8mb4" in created and "InnoDB" in created
    events = admin_query(admin, f"SHOW CREATE TABLE {dialect.events_table}")[0][1]
    assert "FOREIGN KEY" in events and "ON DELETE CASCADE" in events
    memory = admin_query(admin, f"SHOW CREATE TABLE {mysql.tables['memory_table']}")[0][1]
    assert "FULLTEXT KEY" in memory


async def test_invalid_json_is_refused_by_the_check(mysql: Backend) -> None:
    service = await mysql.sessions()
    table = service.store.dialect.app_state_table
    with pytest.raises(Exception) as caught:
        await raw(
            service.store.config,
            f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)",
            ("x", "{not json", 1.0),
            Fetch.NONE,
            write=True,
        )
    assert error_code(caught.value) in (3140, 3819, 4025)  # MySQL invalid JSON or check, MariaDB check
    assert await service.get_app_state(app_name="x") == {}


async def test_ids_are_exact_case_accent_and_trailing_space(mysql: Backend) -> None:
    service = await mysql.sessions()
    for user in ("bob", "Bob", "böb", "bob "):
        await service.create_session(app_name=APP, user_id=user, session_id="s", state={"user:who": user})
    for user in ("bob", "Bob", "böb", "bob "):
        session = await service.get_session(app_name=APP, user_id=user, session_id="s")
        assert session is not None and session.state == {"user:who": user}
        assert await service.get_user_state(app_name=APP, user_id=user) == {"who": user}
    assert await service.get_session(app_name=APP, user_id="bob  ", session_id="s") is None


async def test_longest_ids_fit_and_longer_ones_are_refused(mysql: Backend) -> None:
    service = await mysql.sessions()
    app, user, sid = "a" * 128, "😀" * 255, "s" * 128
    session = await service.create_session(app_name=app, user_id=user, session_id=sid, state={"user:k": 1})
    await service.append_event(session, event("fits", id="e" * 128))
    loaded = await service.get_session(app_name=app, user_id=user, session_id=sid)
    assert loaded is not None and loaded.state == {"user:k": 1} and len(loaded.events) == 1
    with pytest.raises(ValueError, match="at most 128"):
        await service.create_session(app_name=app, user_id=user, session_id="s" * 129)
    with pytest.raises(ValueError, match="user_id"):
        await service.create_session(app_name=app, user_id="u" * 256, session_id="x")
    with pytest.raises(ValueError, match="event_id is 129"):
        await service.append_event(loaded, event("too long", id="e" * 129))


# --------------------------------------------------------- transactions
async def test_reads_see_one_snapshot_writes_read_committed(mysql: Backend, admin: Any) -> None:
    service = await mysql.sessions()
    table = service.store.dialect.app_state_table

    def counting(label: str) -> Op[tuple[int, int]]:
        first = yield Stmt(f"SELECT COUNT(*) FROM {table}", (), Fetch.ONE)
        admin_query(admin, f"INSERT INTO {table} (app_name, state, update_time) VALUES (%s, '{{}}', 1)", (label,))
        second = yield Stmt(f"SELECT COUNT(*) FROM {table}", (), Fetch.ONE)
        return int(first[0]), int(second[0])

    config = service.store.config
    before, after = await run_op(config, lambda: counting("during-read"), write=False)
    assert after == before  # a consistent snapshot: the concurrent commit is not seen
    before, after = await run_op(config, lambda: counting("during-write"), write=True)
    assert after == before + 1  # READ COMMITTED: a writer sees what others committed


async def test_read_transactions_are_read_only(mysql: Backend) -> None:
    service = await mysql.sessions()
    table = service.store.dialect.app_state_table
    with pytest.raises(Exception) as caught:
        await raw(
            service.store.config,
            f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)",
            ("x", "{}", 1.0),
            Fetch.NONE,
        )
    assert error_code(caught.value) == 1792  # cannot execute statement in a READ ONLY transaction


async def test_in_transaction_follows_the_server(mysql: Backend) -> None:
    """The engine rolls back only when the driver says a transaction is open; DDL ends one implicitly."""
    service = await mysql.sessions()
    config = service.store.config
    scratch = f"{mysql.tables['metadata_table']}_probe"
    connection = await call(config.acquire, True)
    states = []
    try:
        for sql in (
            "START TRANSACTION",
            "COMMIT",
            "START TRANSACTION",
            f"CREATE TABLE IF NOT EXISTS {scratch} (n INT)",
        ):
            await call(config.command, connection, sql)
            states.append(config.in_transaction(connection))
        await call(config.command, connection, f"DROP TABLE {scratch}")
    finally:
        await call(config.release, connection, False)
    assert states == [True, False, True, False]


async def test_a_transaction_uses_one_cursor_and_leaves_none_behind(mysql: Backend) -> None:
    """Every driver: one cursor per acquired connection (a sync one keeps it for the connection's life,
    an async one makes it at the first statement and drops it at release), so nothing accumulates."""
    service = await mysql.sessions()
    config = service.store.config
    made: list[Any] = []
    make = config.cursor

    def counting(connection: Any) -> Any:
        cursor = make(connection)
        made.append(cursor)
        return cursor

    config.cursor = counting
    session = await service.create_session(app_name="app", user_id="u", session_id="cursors")
    before, open_before = len(made), len(config._cursors)
    appended = [
        await service.append_event(session, event(f"turn {index}", delta={"n": index} if index == 1 else None))
        for index in range(3)
    ]
    if config.is_async:
        assert len(made) - before == 3  # one per append: BEGIN, its statements and COMMIT share it
        assert config._cursors == {}  # dropped at every release
    else:
        assert len(made) == before and len(config._cursors) == open_before  # the pooled connection's own
    stored = await service.get_session(app_name="app", user_id="u", session_id="cursors")
    assert stored is not None and [e.id for e in stored.events] == [e.id for e in appended]


async def test_pooled_connections_are_handed_out_in_arrival_order(mysql: Backend) -> None:
    """Async drivers: a task that releases the only connection and asks again queues behind the tasks
    already waiting (the drivers' pools alone let it take the connection straight back)."""
    config_class = mysql.spec.classes()[0]
    if not config_class.is_async:
        pytest.skip("the sync configs' pool is a LIFO queue behind a semaphore of their own")
    config = config_class(connection_config=mysql.spec.connection(mysql.tmp_path), pool_config={"max_size": 1})
    order: list[int] = []

    async def caller(number: int) -> None:
        for _ in range(4):
            connection = await config.acquire(True)
            order.append(number)
            await asyncio.sleep(0)  # the others arrive and wait while this one holds the connection
            await config.release(connection, False)

    try:
        await asyncio.gather(*(caller(number) for number in range(3)))
    finally:
        await config.close_pool()
    assert order == [0, 1, 2] * 4


async def test_killed_idle_connection_does_not_break_the_next_call(mysql: Backend, admin: Any) -> None:
    config = config_with_pool(mysql, one_connection(mysql))
    service = await mysql.sessions(config)
    session = await service.create_session(app_name=APP, user_id=USER, session_id="k")
    victim = await connection_id(config)
    assert await connection_id(config) == victim  # one pooled connection, reused
    admin_query(admin, f"KILL {victim}")
    await asyncio.sleep(0.2)
    await service.append_event(session, event("after the kill", delta={"user:k": 1}))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="k")
    assert loaded is not None and [e.content.parts[0].text for e in loaded.events] == ["after the kill"]
    assert await connection_id(config) != victim


async def test_every_pooled_connection_killed_next_call_still_works(mysql: Backend, admin: Any) -> None:
    """Like a server restart: all idle connections are dead; the first one found dead makes the pool drop the rest."""
    pool = {"maxsize": 3, "minsize": 1} if mysql.spec.name in ("aiomysql", "asyncmy") else {"max_size": 3}
    config = config_with_pool(mysql, pool)
    service = await mysql.sessions(config)
    await service.create_session(app_name=APP, user_id=USER, session_id="r")
    held = await asyncio.gather(*(raw(config, "SELECT CONNECTION_ID(), SLEEP(0.3)", fetch=Fetch.ONE) for _ in range(3)))
    ids = {int(row[0]) for row in held}
    assert len(ids) == 3
    for victim in ids:
        admin_query(admin, f"KILL {victim}")
    await asyncio.sleep(0.2)
    seen = attempts(config)
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="r")
    assert loaded is not None
    assert len(seen) <= 2  # at most one dead connection tried: the others were dropped with it
    assert await connection_id(config) not in ids


def _insert_then_kill(table: str, admin: Any, kill_on: Callable[[int], bool]) -> Callable[[], Op[int]]:
    """An operation that inserts a row, then (on the attempts ``kill_on`` picks) has its connection killed."""
    runs: list[int] = []

    def build() -> Op[int]:
        runs.append(1)
        row = yield Stmt("SELECT CONNECTION_ID()", (), Fetch.ONE)
        inserted: int = yield Stmt(
            f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)", ("once", "{}", 1.0), Fetch.ROWCOUNT
        )
        if kill_on(len(runs)):
            admin_query(admin, f"KILL {int(row[0])}")
            time.sleep(0.2)
        yield Stmt(f"SELECT COUNT(*) FROM {table}", (), Fetch.ONE)
        return inserted

    return build


async def test_connection_lost_mid_transaction_runs_a_fresh_copy(mysql: Backend, admin: Any) -> None:
    config = config_with_pool(mysql, one_connection(mysql))
    service = await mysql.sessions(config)
    table = service.store.dialect.app_state_table
    seen = attempts(config)
    assert await run_op(config, _insert_then_kill(table, admin, lambda run: run == 1), write=True) == 1
    assert seen == ["test_op", "test_op"]
    rows = await raw(config, f"SELECT COUNT(*) FROM {table} WHERE app_name = ?", ("once",))
    assert rows[0][0] == 1  # the killed attempt was rolled back, the fresh copy committed


async def test_connection_lost_on_every_attempt_fails_that_call_only(mysql: Backend, admin: Any) -> None:
    config = config_with_pool(mysql, one_connection(mysql))
    service = await mysql.sessions(config)
    session = await service.create_session(app_name=APP, user_id=USER, session_id="m")
    table = service.store.dialect.app_state_table
    seen = attempts(config)
    with pytest.raises(Exception) as caught:  # the driver's own lost-connection error
        await run_op(config, _insert_then_kill(table, admin, lambda run: True), write=True)
    assert config.classify(caught.value) is not None
    # With group commit on (MySQL's default) the group builds the operation once more, only to look at its
    # first statement (``batchable``); nothing of that copy runs.
    peek = 1 if config.group_commit is not None else 0
    assert len(seen) == config.dialect.rules.connection_attempts + peek
    assert await service.get_app_state(app_name="once") == {}  # every attempt rolled back with its connection
    await service.append_event(session, event("next call works"))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="m")
    assert loaded is not None and len(loaded.events) == 1


def _hold_row_lock(sql: str, params: tuple[Any, ...], locked: threading.Event, until: threading.Event) -> None:
    connection = admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("START TRANSACTION")
            cursor.execute(sql, params)
            locked.set()
            until.wait(15)
            cursor.execute("COMMIT")
    finally:
        connection.close()


async def test_lock_wait_timeout_runs_the_write_again(mysql: Backend) -> None:
    """busy_timeout=1: a row held 1.6 s makes the first attempt time out; the next one succeeds."""
    service = await mysql.sessions(busy_timeout=1)
    session = await service.create_session(app_name=APP, user_id=USER, session_id="w")
    seen = attempts(service.store.config)
    locked, until = threading.Event(), threading.Event()
    dialect = service.store.dialect
    holder = asyncio.create_task(
        asyncio.to_thread(
            _hold_row_lock,
            f"SELECT state FROM {dialect.session_table} WHERE app_name = %s AND user_id = %s AND id = %s FOR UPDATE",
            (APP, USER, "w"),
            locked,
            until,
        )
    )
    await asyncio.to_thread(locked.wait, 5)
    threading.Timer(1.6, until.set).start()
    started = time.monotonic()
    await service.append_event(session, event("waited", delta={"k": 1}))
    assert time.monotonic() - started > 1.0
    await holder
    assert seen.count("append_event") >= 2
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="w")
    assert loaded is not None and loaded.state == {"k": 1} and len(loaded.events) == 1


async def test_lock_wait_timeout_is_raised_after_the_last_attempt(mysql: Backend) -> None:
    service = await mysql.sessions(busy_timeout=1)
    config = service.store.config
    table = service.store.dialect.app_state_table
    await raw(config, f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)", ("held", "{}", 1.0),
              Fetch.NONE, write=True)  # fmt: skip
    locked, until = threading.Event(), threading.Event()
    holder = asyncio.create_task(
        asyncio.to_thread(
            _hold_row_lock, f"SELECT state FROM {table} WHERE app_name = %s FOR UPDATE", ("held",), locked, until
        )
    )
    await asyncio.to_thread(locked.wait, 5)
    seen = attempts(config)
    try:
        with pytest.raises(Exception) as caught:
            await raw(config, f"UPDATE {table} SET update_time = 2 WHERE app_name = ?", ("held",), Fetch.ROWCOUNT,
                      write=True)  # fmt: skip
    finally:
        until.set()
        await holder
    assert error_code(caught.value) == 1205
    assert len(seen) == config.dialect.rules.retry_attempts


def _deadlock_partner(mysql: Backend, dialect: Any, done: dict[str, Any]) -> None:
    """Holds the user-state row, waits until the append blocks on it, then asks for the session row."""
    connection, watcher = admin_connection(), admin_connection()
    scratch = f"{mysql.tables['metadata_table']}_scratch"
    try:
        with connection.cursor() as cursor:
            partner_id = connection.thread_id()
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {scratch} (n INT PRIMARY KEY) ENGINE=InnoDB")
            cursor.execute("START TRANSACTION")
            # Weigh this transaction down so InnoDB picks the append as the deadlock victim.
            cursor.executemany(f"INSERT INTO {scratch} VALUES (%s)", [(n,) for n in range(500)])
            cursor.execute(
                f"SELECT state FROM {dialect.user_state_table} WHERE app_name = %s AND user_id = %s FOR UPDATE",
                (APP, USER),
            )
            done["locked"].set()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                # The append waits on the row lock in its locking SELECT (the processlist shows it;
                # information_schema.innodb_trx need not list it as LOCK WAIT). Not this connection's
                # own SELECT, whose text may linger there a moment after its result arrived.
                waiting = admin_query(
                    watcher,
                    "SELECT COUNT(*) FROM information_schema.processlist "
                    "WHERE id NOT IN (CONNECTION_ID(), %s) AND info LIKE %s",
                    (partner_id, f"%{mysql.tables['user_state_table']}%FOR UPDATE%"),
                )
                if waiting[0][0]:
                    break
                time.sleep(0.02)
            cursor.execute(
                f"SELECT revision FROM {dialect.session_table} WHERE app_name = %s AND user_id = %s AND id = %s "
                "FOR UPDATE",
                (APP, USER, "d"),
            )
            done["partner_row"] = cursor.fetchone()
            cursor.execute("ROLLBACK")
            cursor.execute(f"DROP TABLE {scratch}")
    finally:
        connection.close()
        watcher.close()


async def test_deadlock_victim_runs_again(mysql: Backend) -> None:
    service = await mysql.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="d", state={"user:x": 0})
    seen = attempts(service.store.config)
    done: dict[str, Any] = {"locked": threading.Event()}
    partner = asyncio.create_task(asyncio.to_thread(_deadlock_partner, mysql, service.store.dialect, done))
    await asyncio.to_thread(done["locked"].wait, 5)
    await service.append_event(session, event("survived", delta={"user:x": 1}))
    await partner
    assert done["partner_row"] is not None  # the partner won the deadlock and read the row
    assert seen.count("append_event") >= 2  # the append was the victim and ran again
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="d")
    assert loaded is not None and [e.content.parts[0].text for e in loaded.events] == ["survived"]
    assert loaded.state == {"user:x": 1}


async def test_racing_creates_of_one_id_one_wins(mysql: Backend) -> None:
    writers = [await mysql.sessions(mysql.config()) for _ in range(4)]
    for round_number in range(5):
        results = await asyncio.gather(
            *(
                w.create_session(app_name=APP, user_id=USER, session_id=f"c{round_number}", state={"user:n": i})
                for i, w in enumerate(writers)
            ),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        assert len(winners) == 1, results
        assert all(type(r).__name__ == "AlreadyExistsError" for r in results if isinstance(r, BaseException))


async def test_first_writers_of_a_new_user_row_lose_nothing(mysql: Backend) -> None:
    """Many sessions create the user-state row at once: the insert race ends in a locked merge."""
    services = [await mysql.sessions(mysql.config()) for _ in range(3)]
    sessions = [
        await services[i % 3].create_session(app_name=APP, user_id=f"new{round_}", session_id=f"s{i}")
        for round_ in range(3)
        for i in range(6)
    ]

    async def write(index: int) -> None:
        session = sessions[index]
        await services[index % 3].append_event(session, event(delta={f"user:k{index}": None, f"app:a{index}": index}))

    await asyncio.gather(*(write(i) for i in range(len(sessions))))
    for round_ in range(3):
        state = await services[0].get_user_state(app_name=APP, user_id=f"new{round_}")
        assert state == {f"k{round_ * 6 + i}": None for i in range(6)}  # None values are kept, not deleted
    assert await services[0].get_app_state(app_name=APP) == {f"a{i}": i for i in range(18)}


async def test_stale_handle_still_refused_after_retries(mysql: Backend) -> None:
    service = await mysql.sessions()
    await service.create_session(app_name=APP, user_id=USER, session_id="st")
    first = await service.get_session(app_name=APP, user_id=USER, session_id="st")
    second = await service.get_session(app_name=APP, user_id=USER, session_id="st")
    assert first is not None and second is not None
    await service.append_event(first, event("a"))
    with pytest.raises(StaleSessionError):
        await service.append_event(second, event("b"))


async def test_async_pool_config_is_the_drivers(mysql: Backend) -> None:
    if mysql.spec.name not in ("aiomysql", "asyncmy"):
        pytest.skip("the sync drivers use the library's own small pool")
    config = config_with_pool(mysql, {"min_size": 1, "max_size": 2})
    service = await mysql.sessions(config)
    await asyncio.gather(*(service.list_sessions(app_name=APP) for _ in range(6)))
    assert config._pool.maxsize == 2 and config._pool.size <= 2


async def test_refresh_drops_idle_connections(mysql: Backend) -> None:
    config = config_with_pool(mysql, one_connection(mysql))
    first = await connection_id(config)
    await call(config.refresh)
    assert await connection_id(config) != first


# ----------------------------------------------------------------- memory
async def test_memory_finds_short_words_stopwords_and_single_characters(mysql: Backend) -> None:
    from google.adk.memory.memory_entry import MemoryEntry
    from google.genai import types

    memory = await mysql.memory()
    texts = {
        "m1": "the meeting is about ai safety",
        "m2": "we go to 東京 tomorrow",
        "m3": "a note with nothing relevant",
        "m4": "safety first safety always",
    }
    await memory.add_memory(
        app_name=APP,
        user_id=USER,
        memories=[
            MemoryEntry(id=key, content=types.Content(role="user", parts=[types.Part(text=text)]))
            for key, text in texts.items()
        ],
    )

    async def found(query: str) -> list[str]:
        response = await memory.search_memory(app_name=APP, user_id=USER, query=query)
        return [m.id for m in response.memories]

    assert await found("ai") == ["m1"]  # shorter than innodb_ft_min_token_size
    assert await found("the") == ["m1"]  # an InnoDB stopword, indexed anyway
    assert await found("about") == ["m1"]
    assert await found("東") == ["m2"]  # one CJK character is one token
    assert await found("go 東京") == ["m2"]
    assert (await found("safety"))[:1] == ["m4"]  # relevance: two occurrences rank first
    assert set(await found("safety")) == {"m1", "m4"}
    assert await found("zebra") == []
    assert set(await found("is ai safety")) == {"m1", "m4"}  # FULLTEXT over "safety" only
    assert await found("zebra ai") == ["m1"]  # the indexable word finds nothing: the short ones by LIKE


async def test_deleted_entries_count_in_innodb_word_statistics_until_optimized(mysql: Backend, admin: Any) -> None:
    """The search weighs words by InnoDB's own FULLTEXT statistics, which keep a deleted entry's words until the
    index is optimized: the library's deletes are correct (nothing deleted is found), only the weights lag."""
    memory = await mysql.memory()
    older, newer = event("alpha item one", timestamp=2000.0), event("beta item two", timestamp=3000.0)
    chatter = [event(f"alpha note n{i}", timestamp=2001.0 + i) for i in range(8)]
    await memory.add_events_to_memory(app_name=APP, user_id=USER, events=[older, newer, *chatter])
    await memory.add_events_to_memory(app_name=APP, user_id=USER, events=[event("beta note three", timestamp=1.0)])

    async def ranked() -> list[str]:
        response = await memory.search_memory(app_name=APP, user_id=USER, query="alpha beta")
        return ["".join(part.text or "" for part in m.content.parts or []) for m in response.memories if m.content]

    assert (await ranked())[0] == "beta item two"  # alpha: 9 entries, beta: 2
    for entry in chatter:
        await memory.delete_memory(app_name=APP, user_id=USER, memory_id=entry.id)
    assert not {text for text in await ranked() if text.startswith("alpha note")}  # deleted: never found
    assert (await ranked())[0] == "beta item two"  # ...but alpha's 8 deleted entries still weigh on it
    # OPTIMIZE TABLE rebuilds the FULLTEXT index (with stop words off, as the schema built it); the deleted
    # entries' words are gone, and alpha (1 entry) now outranks beta (2).
    table = memory.store.dialect.memory_table
    with admin.cursor() as cursor:
        cursor.execute("SET SESSION innodb_ft_enable_stopword = OFF")
        cursor.execute(f"OPTIMIZE TABLE {table}")
        cursor.fetchall()
    assert (await ranked())[0] == "alpha item one"
