"""The wheel holds exactly the ``sqlspec_adk`` package (plus its metadata), built the way a release is built."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_exactly_the_package(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("sqlspec_adk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    metadata = {entry for entry in top if entry.endswith(".dist-info")}
    assert top == {"sqlspec_adk", *metadata} and len(metadata) == 1, sorted(top)
    package = {Path(path).relative_to(REPO).as_posix() for path in (REPO / "sqlspec_adk").rglob("*.py")}
    assert {name for name in names if name.endswith(".py")} == package
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "tools/", "docs/"))]
