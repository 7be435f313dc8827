"""The engine: runs store operations in transactions, written once for sync and async drivers.

- :mod:`~sqlspec_adk.engine.driver`: the questions an adapter answers about its
  driver (get a connection, execute one statement, what kind of error is this).
- :mod:`~sqlspec_adk.engine.transaction`: one transaction as a plan of driver
  calls: begin, statements, commit, rollback, retries with backoff.
- :mod:`~sqlspec_adk.engine.loop`: drives a plan on a sync or an async driver.
- :mod:`~sqlspec_adk.engine.plans`: drives a plan of higher steps (operations, embedder calls,
  sleeps) that a memory search or a migration yields, in either mode.
- :mod:`~sqlspec_adk.engine.tracing`: an OpenTelemetry span per operation.
"""
