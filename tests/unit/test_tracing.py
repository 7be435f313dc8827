"""One OpenTelemetry span per store operation, nested under the caller's span, with the DB attributes only.

The SDK's in-memory exporter collects the spans; the tracer provider is handed
to the engine by patching ``trace.get_tracer_provider`` (the global provider
can be set once per process, and ADK may set its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.adk.errors import StaleSessionError
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sqlspec_adk.adapters.aiosqlite import AiosqliteADKStore, AiosqliteConfig
from sqlspec_adk.adapters.sqlite import SqliteADKStore, SqliteConfig
from sqlspec_adk.engine import tracing
from sqlspec_adk.service import SQLSpecSessionService
from tests.helpers import event

SECRET = "canary-value-7f3a"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    monkeypatch.setattr(tracing.trace, "get_tracer_provider", lambda: provider)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    yield memory
    provider.shutdown()


@pytest.fixture(params=["sqlite", "aiosqlite"])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    config_cls, store_cls = (
        (SqliteConfig, SqliteADKStore) if request.param == "sqlite" else (AiosqliteConfig, AiosqliteADKStore)
    )
    config = config_cls(connection_config={"database": str(tmp_path / "traced.db")})
    sessions = SQLSpecSessionService(store_cls(config))
    await sessions.store.create_tables() if config.is_async else sessions.store.create_tables()
    yield sessions
    await sessions.close()


async def test_one_span_per_operation_under_the_callers_span(
    service: SQLSpecSessionService, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    tracer = trace.get_tracer_provider().get_tracer("test")
    with tracer.start_as_current_span("agent turn") as parent:
        session = await service.create_session(app_name="app", user_id="u", state={"secret": SECRET})
        await service.append_event(session, event(SECRET, delta={"k": SECRET}))
        await service.get_session(app_name="app", user_id="u", session_id=session.id)
    spans = [span for span in exporter.get_finished_spans() if span.name != "agent turn"]
    assert [span.name for span in spans] == [
        "create_session adk_session",
        "append_event adk_event",
        "get_session adk_session",
    ]
    for span in spans:
        assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
        assert span.kind is trace.SpanKind.CLIENT
        assert span.attributes is not None
        assert span.attributes["db.system.name"] == "sqlite"
        assert span.attributes["db.operation.name"] == span.name.split()[0]
        assert span.attributes["db.collection.name"] == span.name.split()[1]
        assert span.attributes["sqlspec_adk.retries"] == 0
        # No parameter value, state or event content in any attribute or event.
        texts = [str(value) for value in span.attributes.values()]
        texts += [str(value) for e in span.events for value in (e.attributes or {}).values()]
        assert not any(SECRET in text for text in texts)


async def test_a_failed_operation_is_an_error_span(
    service: SQLSpecSessionService, exporter: InMemorySpanExporter
) -> None:
    session = await service.create_session(app_name="app", user_id="u")
    stale = session.model_copy(deep=True)
    await service.append_event(session, event("first"))
    exporter.clear()
    with pytest.raises(StaleSessionError):
        await service.append_event(stale, event("second"))
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"].endswith("StaleSessionError")
    assert [e.name for e in span.events] == ["exception"]


async def test_no_provider_no_span(tmp_path: Path) -> None:
    """With nothing configured (the proxy provider), the engine starts no span at all."""
    started: list[str] = []

    class Watching(trace.ProxyTracerProvider):
        def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
            started.append("tracer")
            return super().get_tracer(*args, **kwargs)

    config = AiosqliteConfig(connection_config={"database": str(tmp_path / "quiet.db")})
    store = AiosqliteADKStore(config)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tracing.trace, "get_tracer_provider", Watching)
        await store.create_tables()
        await store.create_session(app_name="a", user_id="u", session_id="s")
    await config.close_pool()
    assert started == []
