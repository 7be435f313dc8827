"""The database servers a run may use (from the test suite's environment variables) and per-contender namespaces.

Every contender gets a PostgreSQL schema or a MySQL database named
``bench_<run>_<n>``; all are dropped at the end of the run (and on Ctrl-C or
SIGTERM); what a killed run left is dropped by the next (``benchmarks.leases``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.contenders.base import Endpoint, Family

__all__ = ["Namespaces", "Server", "commit_ms", "pg_connect", "servers_from_env"]

PG_DSN = os.environ.get("SQLSPEC_ADK_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_DSN = os.environ.get("SQLSPEC_ADK_MYSQL_DSN", "mysql://root@127.0.0.1:3306/test")


@dataclass(frozen=True, slots=True)
class Server:
    family: Family
    host: str
    port: int
    user: str
    password: str
    database: str
    version: str = ""


def _parse(family: Family, dsn: str, default_port: int) -> Server:
    parts = urlsplit(dsn)
    return Server(
        family=family,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or default_port,
        user=parts.username or ("postgres" if family == "postgres" else "root"),
        password=parts.password or "",
        database=parts.path.lstrip("/") or "test",
    )


async def pg_connect(server: Server, connect_timeout: float = 10) -> Any:
    """An asyncpg connection to ``server``'s database (the harness's own bookkeeping, not a contender)."""
    import asyncpg

    return await asyncpg.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password or None,
        database=server.database,
        timeout=connect_timeout,
    )


async def _postgres_version(server: Server) -> str:
    connection = await pg_connect(server, connect_timeout=3)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def _mysql_connect(server: Server, database: str | None = None) -> Any:
    import pymysql

    return pymysql.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database=database,
        connect_timeout=3,
        autocommit=True,
    )


def _mysql_version(server: Server) -> str:
    connection = _mysql_connect(server, server.database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            return str(cursor.fetchone()[0])
    finally:
        connection.close()


async def servers_from_env(families: set[str]) -> tuple[dict[str, Server], list[str]]:
    """Reachable servers among ``families`` (with their versions) and notes on the unreachable ones."""
    found: dict[str, Server] = {}
    notes: list[str] = []
    if "postgres" in families:
        server = _parse("postgres", PG_DSN, 5432)
        try:
            found["postgres"] = dataclasses.replace(server, version=await _postgres_version(server))
        except Exception as error:
            notes.append(f"PostgreSQL at {server.host}:{server.port} unreachable ({error}); its contenders skipped")
    if "mysql" in families:
        server = _parse("mysql", MYSQL_DSN, 3306)
        try:
            version = await asyncio.to_thread(_mysql_version, server)
            found["mysql"] = dataclasses.replace(server, version=version)
        except Exception as error:
            notes.append(f"MySQL at {server.host}:{server.port} unreachable ({error}); its contenders skipped")
    return found, notes


async def commit_ms(server: Server, table: str, samples: int = 50) -> float:
    """Median latency of a one-row INSERT committed on its own: the durable-commit cost every append pays."""
    timings: list[float] = []
    if server.family == "postgres":
        connection = await pg_connect(server)
        try:
            await connection.execute(f"CREATE TABLE {table} (x integer)")
            for index in range(samples):
                start = time.perf_counter()
                await connection.execute(f"INSERT INTO {table} VALUES ($1)", index)
                timings.append(time.perf_counter() - start)
        finally:
            await connection.execute(f"DROP TABLE IF EXISTS {table}")
            await connection.close()
    else:

        def probe() -> None:
            connection = _mysql_connect(server, server.database)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"CREATE TABLE {table} (x integer) ENGINE=InnoDB")
                    for index in range(samples):
                        start = time.perf_counter()
                        cursor.execute(f"INSERT INTO {table} VALUES (%s)", (index,))
                        timings.append(time.perf_counter() - start)
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
            finally:
                connection.close()

        await asyncio.to_thread(probe)
    return round(statistics.median(timings) * 1000, 3)


class Namespaces:
    """Creates each contender's private directory, schema or database, and drops them all."""

    def __init__(self, run_id: str, root: Path, servers: dict[str, Server]) -> None:
        self.run_id = run_id
        self.root = root
        self.servers = servers
        self.schemas: list[str] = []
        self.databases: list[str] = []
        self.counter = 0

    async def endpoint(self, family: Family, contender: str) -> Endpoint:
        self.counter += 1
        name = f"bench_{self.run_id}_{self.counter}"
        path = self.root / contender
        path.mkdir(parents=True, exist_ok=True)
        server = self.servers.get(family)
        if family == "postgres" and server is not None:
            await self._postgres(server, f'CREATE SCHEMA "{name}"')
            self.schemas.append(name)
        elif family == "mysql" and server is not None:
            await asyncio.to_thread(self._mysql, server, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            self.databases.append(name)
        if server is None:
            return Endpoint(family=family, path=path, namespace=name, prefix=f"b{self.run_id}")
        return Endpoint(
            family=family,
            path=path,
            namespace=name,
            prefix=f"b{self.run_id}",
            host=server.host,
            port=server.port,
            user=server.user,
            password=server.password,
            database=server.database,
        )

    async def drop_all(self) -> None:
        if self.schemas and "postgres" in self.servers:
            for name in self.schemas:
                await self._postgres(self.servers["postgres"], f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        if self.databases and "mysql" in self.servers:
            for name in self.databases:
                await asyncio.to_thread(self._mysql, self.servers["mysql"], f"DROP DATABASE IF EXISTS `{name}`")
        self.schemas, self.databases = [], []
        shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    async def _postgres(server: Server, sql: str) -> None:
        connection = await pg_connect(server)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    @staticmethod
    def _mysql(server: Server, sql: str) -> None:
        connection = _mysql_connect(server)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()
