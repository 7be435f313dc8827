"""An OpenTelemetry span per store operation, with the database semantic-convention attributes.

ADK traces agent runs with opentelemetry-api (``adk web`` shows the traces);
each store operation becomes a CLIENT span under the caller's current span,
named ``<operation> <table>`` and carrying ``db.system.name``,
``db.operation.name``, ``db.collection.name``, ``sqlspec_adk.retries`` and, on
failure, ``error.type`` with the exception recorded. Parameter values and
state never go into a span.

With no tracer provider configured, no span is started at all: the check is
one attribute read per operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import ProxyTracerProvider, SpanKind, Status, StatusCode

from sqlspec_adk.protocol import Operation

__all__ = ["TRACER_NAME", "traced"]

TRACER_NAME = "sqlspec_adk"


def _ignore_retry(attempt: int, error: Exception) -> None:
    """The retry callback when nothing is traced."""


@contextmanager
def traced(operation: Operation[Any], db_system: str) -> Iterator[Callable[[int, Exception], None]]:
    """A span around one operation; yields the callback the transaction plan reports retries to."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, ProxyTracerProvider):  # nothing configured: spans would go nowhere
        yield _ignore_retry
        return
    attributes = {"db.system.name": db_system, "db.operation.name": operation.name}
    if operation.table:
        attributes["db.collection.name"] = operation.table
    name = f"{operation.name} {operation.table}" if operation.table else operation.name
    tracer = provider.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        retries = 0

        def on_retry(attempt: int, error: Exception) -> None:
            nonlocal retries
            retries = attempt
            span.add_event("retry", {"sqlspec_adk.attempt": attempt, "error.type": _error_type(error)})

        try:
            yield on_retry
        except BaseException as error:
            span.set_attribute("error.type", _error_type(error))
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            span.set_attribute("sqlspec_adk.retries", retries)


def _error_type(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
