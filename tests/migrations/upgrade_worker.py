"""``sqlspec-adk`` in a process of its own, for the concurrency and crash tests (run as a script).

``python upgrade_worker.py LOG WAIT PAUSE_AFTER ARGS...``: once imported, prints
``READY``; with ``WAIT`` 1 it then waits for a line on stdin (so two workers
started together really run together), then runs ``sqlspec_adk.cli.main(ARGS)`` with the
config's ``execute`` wrapped: every statement is appended to ``LOG`` as one
JSON line (``{"sql": ..., "error": ...}``) once it ran, and with
``PAUSE_AFTER`` > 0 the process prints ``PAUSED`` after that many statements
and sleeps until it is killed: inside the upgrade's open transaction on the
families whose DDL is transactional, between committed steps on the others.
Exits with ``main``'s code.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import time
from typing import Any

import sqlspec_adk.registry as registry
from sqlspec_adk.cli import main


def _wrap(config: Any, log_path: str, pause_after: int) -> None:
    original = config.execute
    count = 0

    def note(stmt: Any, error: BaseException | None) -> None:
        nonlocal count
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"sql": stmt.sql, "error": None if error is None else str(error)}) + "\n")
        count += 1
        if pause_after and count >= pause_after:
            print("PAUSED", flush=True)
            time.sleep(3600)

    if inspect.iscoroutinefunction(original):

        async def execute_async(connection: Any, stmt: Any) -> Any:
            try:
                result = await original(connection, stmt)
            except Exception as error:
                note(stmt, error)
                raise
            note(stmt, None)
            return result

        config.execute = execute_async
    else:

        def execute(connection: Any, stmt: Any) -> Any:
            try:
                result = original(connection, stmt)
            except Exception as error:
                note(stmt, error)
                raise
            note(stmt, None)
            return result

        config.execute = execute


def run(log_path: str, wait: bool, pause_after: int, args: list[str]) -> int:
    original = registry.config_from_uri

    @functools.wraps(original)
    def config_from_uri(uri: str, *more: Any, **options: Any) -> Any:
        driver, config = original(uri, *more, **options)
        _wrap(config, log_path, pause_after)
        return driver, config

    registry.config_from_uri = config_from_uri
    print("READY", flush=True)
    if wait:
        sys.stdin.readline()
    return main(args)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), sys.argv[4:]))
