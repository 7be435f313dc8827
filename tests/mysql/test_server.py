"""MySQL/MariaDB family behaviour on a live server, once per driver (aiomysql, asyncmy, pymysql, mysqlconnector)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pymysql
import pytest
from google.adk.errors import StaleSessionError

from sqlspec_adk.adapters._mysql import error_code
from sqlspec_adk.dialects.mysql import Replayable
from sqlspec_adk.protocol import Fetch, Op, Stmt
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


async def connection_id(store: Any) -> int:
    row = await store.arun(raw("SELECT CONNECTION_ID()", fetch=Fetch.ONE), write=False)
    return int(row[0])


async def is_mariadb(store: Any) -> bool:
    row = await store.arun(raw("SELECT VERSION()", fetch=Fetch.ONE), write=False)
    return "mariadb" in str(row[0]).lower()


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
    await service.store.arun(service.store.op_create_tables(), write=True)  # idempotent: a second run changes nothing
    await mysql.memory_store()
    created = admin_query(admin, f"SHOW CREATE TABLE {service.store.dialect.session_table}")[0][1]
    exact = "utf8mb4_nopad_bin" if await is_mariadb(service.store) else "utf8mb4_0900_bin"
    id_line = next(line for line in created.splitlines() if line.strip().startswith("`id`"))
    assert exact in id_line
    assert "json_valid(`state`)" in created.lower()
    assert "CHARSET=utf8mb4" in created and "InnoDB" in created
    events = admin_query(admin, f"SHOW CREATE TABLE {service.store.dialect.events_table}")[0][1]
    assert "FOREIGN KEY" in events and "ON DELETE CASCADE" in events
    memory = admin_query(admin, f"SHOW CREATE TABLE {mysql.tables['memory_table']}")[0][1]
    assert "FULLTEXT KEY" in memory


async def test_invalid_json_is_refused_by_the_check(mysql: Backend) -> None:
    service = await mysql.sessions()
    table = service.store.dialect.app_state_table
    with pytest.raises(Exception) as caught:
        await service.store.arun(
            raw(f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)", ("x", "{not json", 1.0)),
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


# --------------------------------------------------------- transactions
async def test_reads_see_one_snapshot_writes_read_committed(mysql: Backend, admin: Any) -> None:
    service = await mysql.sessions()
    table = service.store.dialect.app_state_table

    def counting(label: str) -> Op[tuple[int, int]]:
        first = yield Stmt(f"SELECT COUNT(*) FROM {table}", (), Fetch.ONE)
        admin_query(admin, f"INSERT INTO {table} (app_name, state, update_time) VALUES (%s, '{{}}', 1)", (label,))
        second = yield Stmt(f"SELECT COUNT(*) FROM {table}", (), Fetch.ONE)
        return int(first[0]), int(second[0])

    before, after = await service.store.arun(counting("during-read"), write=False)
    assert after == before  # a consistent snapshot: the concurrent commit is not seen
    before, after = await service.store.arun(counting("during-write"), write=True)
    assert after == before + 1  # READ COMMITTED: a writer sees what others committed


async def test_read_transactions_are_read_only(mysql: Backend) -> None:
    service = await mysql.sessions()
    table = service.store.dialect.app_state_table
    with pytest.raises(Exception) as caught:
        await service.store.arun(
            raw(f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)", ("x", "{}", 1.0)),
            write=False,
        )
    assert error_code(caught.value) == 1792  # cannot execute statement in a READ ONLY transaction


async def test_killed_idle_connection_does_not_break_the_next_call(mysql: Backend, admin: Any) -> None:
    service = await mysql.sessions(config_with_pool(mysql, one_connection(mysql)))
    session = await service.create_session(app_name=APP, user_id=USER, session_id="k")
    victim = await connection_id(service.store)
    assert await connection_id(service.store) == victim  # one pooled connection, reused
    admin_query(admin, f"KILL {victim}")
    await asyncio.sleep(0.2)
    await service.append_event(session, event("after the kill", delta={"user:k": 1}))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="k")
    assert loaded is not None and [e.content.parts[0].text for e in loaded.events] == ["after the kill"]
    assert await connection_id(service.store) != victim


async def test_every_pooled_connection_killed_next_call_still_works(mysql: Backend, admin: Any) -> None:
    """Like a server restart: all idle connections are dead; the next call replaces them one by one."""
    pool = {"maxsize": 3, "minsize": 1} if mysql.spec.name in ("aiomysql", "asyncmy") else {"max_size": 3}
    service = await mysql.sessions(config_with_pool(mysql, pool))
    await service.create_session(app_name=APP, user_id=USER, session_id="r")
    held = await asyncio.gather(
        *(service.store.arun(raw("SELECT CONNECTION_ID(), SLEEP(0.3)", fetch=Fetch.ONE), write=False) for _ in range(3))
    )
    ids = {int(row[0]) for row in held}
    assert len(ids) == 3
    for victim in ids:
        admin_query(admin, f"KILL {victim}")
    await asyncio.sleep(0.2)
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="r")
    assert loaded is not None
    assert await connection_id(service.store) not in ids


async def test_connection_killed_mid_transaction_fails_that_call_only(mysql: Backend, admin: Any) -> None:
    service = await mysql.sessions(config_with_pool(mysql, one_connection(mysql)))
    session = await service.create_session(app_name=APP, user_id=USER, session_id="m")
    table = service.store.dialect.app_state_table

    def killed_halfway() -> Op[None]:
        row = yield Stmt("SELECT CONNECTION_ID()", (), Fetch.ONE)
        yield Stmt(f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)", ("half", "{}", 1.0))
        admin_query(admin, f"KILL {int(row[0])}")
        time.sleep(0.2)
        yield Stmt(f"SELECT COUNT(*) FROM {table}", (), Fetch.ONE)

    with pytest.raises(Exception):  # the driver's own lost-connection error
        await service.store.arun(killed_halfway(), write=True)
    assert await service.get_app_state(app_name="half") == {}  # rolled back with the connection
    await service.append_event(session, event("next call works"))
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="m")
    assert loaded is not None and len(loaded.events) == 1


async def test_connection_lost_before_commit_replays_a_replayable_write(mysql: Backend, admin: Any) -> None:
    service = await mysql.sessions(config_with_pool(mysql, one_connection(mysql)))
    table = service.store.dialect.app_state_table
    kills: list[int] = []

    def build() -> Op[int]:
        row = yield Stmt("SELECT CONNECTION_ID()", (), Fetch.ONE)
        inserted: int = yield Stmt(
            f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)", ("once", "{}", 1.0), Fetch.ROWCOUNT
        )
        if not kills:
            kills.append(int(row[0]))
            admin_query(admin, f"KILL {int(row[0])}")
            time.sleep(0.2)
        yield Stmt(f"SELECT COUNT(*) FROM {table}", (), Fetch.ONE)
        return inserted

    assert await service.store.arun(Replayable(build), write=True) == 1
    assert len(kills) == 1
    rows = await service.store.arun(raw(f"SELECT COUNT(*) FROM {table} WHERE app_name = ?", ("once",)), write=False)
    assert rows[0][0] == 1  # the killed attempt was rolled back, the replay committed


def _hold_row_lock(sql: str, params: tuple[Any, ...], seconds: float, locked: threading.Event) -> None:
    connection = admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("START TRANSACTION")
            cursor.execute(sql, params)
            locked.set()
            time.sleep(seconds)
            cursor.execute("COMMIT")
    finally:
        connection.close()


async def test_lock_wait_timeout_replays_the_write(mysql: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """busy_timeout=1: a row held 1.6 s makes the first attempt time out; the replay then succeeds."""
    replays = count_replays(monkeypatch)
    service = await mysql.sessions(busy_timeout=1)
    session = await service.create_session(app_name=APP, user_id=USER, session_id="w")
    locked = threading.Event()
    holder = asyncio.create_task(
        asyncio.to_thread(
            _hold_row_lock,
            f"SELECT state FROM {service.store.dialect.session_table} WHERE app_name = %s AND user_id = %s "
            "AND id = %s FOR UPDATE",
            (APP, USER, "w"),
            1.6,
            locked,
        )
    )
    await asyncio.to_thread(locked.wait, 5)
    started = time.monotonic()
    await service.append_event(session, event("waited", delta={"k": 1}))
    assert time.monotonic() - started > 1.0
    await holder
    assert replays
    loaded = await service.get_session(app_name=APP, user_id=USER, session_id="w")
    assert loaded is not None and loaded.state == {"k": 1} and len(loaded.events) == 1


async def test_lock_wait_timeout_is_raised_for_a_plain_operation(mysql: Backend) -> None:
    service = await mysql.sessions(busy_timeout=1)
    table = service.store.dialect.app_state_table
    await service.store.arun(
        raw(f"INSERT INTO {table} (app_name, state, update_time) VALUES (?, ?, ?)", ("held", "{}", 1.0)), write=True
    )
    locked = threading.Event()
    holder = asyncio.create_task(
        asyncio.to_thread(
            _hold_row_lock, f"SELECT state FROM {table} WHERE app_name = %s FOR UPDATE", ("held",), 2.5, locked
        )
    )
    await asyncio.to_thread(locked.wait, 5)
    with pytest.raises(Exception) as caught:
        await service.store.arun(
            raw(f"UPDATE {table} SET update_time = 2 WHERE app_name = ?", ("held",), Fetch.ROWCOUNT), write=True
        )
    assert error_code(caught.value) == 1205
    await holder


def count_replays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    replays: list[int] = []
    original = Replayable.replay

    def counting(self: Replayable[Any]) -> Replayable[Any]:
        replays.append(1)
        return original(self)

    monkeypatch.setattr(Replayable, "replay", counting)
    return replays


def _deadlock_partner(mysql: Backend, dialect: Any, done: dict[str, Any]) -> None:
    """Holds the user-state row, waits until the append blocks on it, then asks for the session row."""
    connection, watcher = admin_connection(), admin_connection()
    scratch = f"{mysql.tables['metadata_table']}_scratch"
    try:
        with connection.cursor() as cursor:
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
                waiting = admin_query(
                    watcher, "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
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


async def test_deadlock_victim_is_replayed(mysql: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    replays = count_replays(monkeypatch)
    service = await mysql.sessions()
    session = await service.create_session(app_name=APP, user_id=USER, session_id="d", state={"user:x": 0})
    done: dict[str, Any] = {"locked": threading.Event()}
    partner = asyncio.create_task(asyncio.to_thread(_deadlock_partner, mysql, service.store.dialect, done))
    await asyncio.to_thread(done["locked"].wait, 5)
    await service.append_event(session, event("survived", delta={"user:x": 1}))
    await partner
    assert done["partner_row"] is not None  # the partner won the deadlock and read the row
    assert replays  # the append was the victim and ran again
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


async def test_stale_handle_still_refused_after_replays(mysql: Backend) -> None:
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


async def test_memory_uses_match_against_for_full_words(mysql: Backend) -> None:
    store = await mysql.memory_store()
    dialect = store.dialect
    words = dialect.memory_fts_search_stmt(APP, USER, ["meeting", "safety"], 5)
    assert "MATCH (search_text) AGAINST (? IN BOOLEAN MODE)" in words.sql and "LIKE" not in words.sql
    assert '"meeting" "safety"' in words.params
    # Tokens too short for the FULLTEXT index are left out while any token is indexable...
    mixed = dialect.memory_fts_search_stmt(APP, USER, ["ai", "is", "safety"], 5)
    assert "MATCH" in mixed.sql and "LIKE" not in mixed.sql
    assert mixed.params[0] == '"safety"'
    # ...and only a query with none ranks by whole-token LIKE.
    short = dialect.memory_fts_search_stmt(APP, USER, ["ai", "is"], 5)
    assert "MATCH" not in short.sql and "LIKE" in short.sql
