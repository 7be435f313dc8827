"""W6 contenders: this library's ``SQLSpecArtifactService`` per adapter (content under ``file://``),
ADK's ``FileArtifactService`` and ``InMemoryArtifactService`` (the ceiling)."""

from __future__ import annotations

from functools import partial
from typing import Any

from google.adk.artifacts.base_artifact_service import BaseArtifactService
from google.genai import types

from benchmarks.contenders.adapters import Adapter, available_adapters, close_config, make_config
from benchmarks.contenders.base import APP, Endpoint, Family, Spec, counter_for
from sqlspec_adk.modes import call

__all__ = ["ARTIFACT_USER", "ArtifactContender", "artifact_specs"]

ARTIFACT_USER = "u-artifact"
SESSION = "s-artifact"


class ArtifactContender:
    spec: Spec
    service: BaseArtifactService

    async def open(self) -> None:
        """Create tables."""
        return None

    async def close(self) -> None:
        """Release connections."""
        return None

    async def save(self, filename: str, data: bytes) -> int:
        part = types.Part.from_bytes(data=data, mime_type="application/octet-stream")
        return await self.service.save_artifact(
            app_name=APP, user_id=ARTIFACT_USER, session_id=SESSION, filename=filename, artifact=part
        )

    async def load(self, filename: str) -> int:
        part = await self.service.load_artifact(
            app_name=APP, user_id=ARTIFACT_USER, session_id=SESSION, filename=filename
        )
        if part is None or part.inline_data is None or part.inline_data.data is None:
            raise LookupError(f"artifact {filename!r} did not load")
        return len(part.inline_data.data)


class OursArtifacts(ArtifactContender):
    def __init__(self, adapter: Adapter, endpoint: Endpoint) -> None:
        from sqlspec_adk.artifact.service import SQLSpecArtifactService

        blobs = endpoint.path / "blobs"
        blobs.mkdir(parents=True, exist_ok=True)
        self.config = make_config(adapter, endpoint)
        self.store: Any = adapter.classes()[3](self.config)
        self.service = SQLSpecArtifactService(self.store, artifact_storage_uri=f"file://{blobs}")

    async def open(self) -> None:
        await call(self.store.create_tables)

    async def close(self) -> None:
        await close_config(self.config)


class AdkFileArtifacts(ArtifactContender):
    def __init__(self, endpoint: Endpoint) -> None:
        from google.adk.artifacts.file_artifact_service import FileArtifactService

        self.service = FileArtifactService(endpoint.path / "adk-artifacts")


class AdkInMemoryArtifacts(ArtifactContender):
    def __init__(self, endpoint: Endpoint) -> None:
        from google.adk.artifacts.in_memory_artifact_service import InMemoryArtifactService

        self.service = InMemoryArtifactService()


def artifact_specs(family: Family) -> list[Spec]:
    if family == "memory":
        return [
            Spec(
                "adk-artifact-inmemory",
                "ceiling",
                "memory",
                "-",
                "ADK InMemoryArtifactService",
                AdkInMemoryArtifacts,
                "none",
            ),
            Spec(
                "adk-artifact-file",
                "adk",
                "memory",
                "file",
                "ADK FileArtifactService (local files)",
                AdkFileArtifacts,
                "none",
            ),
        ]
    counter = counter_for(family)
    return [
        Spec(
            f"ours-artifact-{adapter.name}",
            "ours",
            adapter.family,
            adapter.name,
            f"sqlspec-adk {adapter.name}",
            partial(OursArtifacts, adapter),
            counter,
        )
        for adapter in available_adapters()
        if adapter.family == family
    ]
