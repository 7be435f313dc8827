"""Command line of the harness."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path
from typing import Any

from benchmarks.contenders.memory import DEFAULT_MODES, QUICK_MODES, parse_modes
from benchmarks.results import Results
from benchmarks.runner import FAMILIES, RunOptions, SelfCheckError, run
from benchmarks.sizes import FULL, QUICK, Sizes

__all__ = ["main"]

ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W1c", "W7", "W1t")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, SQLite only unless --families says more")
    parser.add_argument(
        "--families",
        default=None,
        help=f"comma-separated families, of {','.join(FAMILIES)} (default: all reachable; --quick: memory,sqlite)",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(ALL_WORKLOADS),
        help="comma-separated subset of W1..W7, W1c (concurrency), W1t (tracing probe)",
    )
    parser.add_argument(
        "--memory-modes",
        default=None,
        help="W5 search modes of this library, e.g. 'lexical,hybrid=fake:384,semantic=sentence-transformers:"
        "all-MiniLM-L6-v2' (default: lexical plus semantic/hybrid with all-MiniLM-L6-v2 and hybrid with fake:384; "
        "--quick: lexical plus semantic/hybrid with fake:384)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="directory for the reports")
    parser.add_argument(
        "--docs", type=Path, default=None, help="also rewrite the results section of this markdown file"
    )
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        help="rebuild the reports (and --docs) from a results JSON file of an earlier run, without running",
    )
    return parser


def _load(path: Path) -> tuple[dict[str, Any], Results, RunOptions]:
    """Machine, rows and options of a results JSON file; targets are evaluated again by the current code."""
    data = json.loads(path.read_text(encoding="utf-8"))
    # JSON turned the tuples into lists.
    fields: dict[str, Any] = {key: tuple(v) if isinstance(v, list) else v for key, v in data["sizes"].items()}
    sizes = Sizes(**fields)
    options = RunOptions(
        sizes=sizes,
        families=tuple(data["families"]),
        workloads=frozenset(data["workloads"]),
        quick=bool(data["machine"].get("quick", sizes == QUICK)),
    )
    return data["machine"], Results.from_dict(data), options


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render is not None:
        machine, results, options = _load(args.render)
        from benchmarks.report import write_reports

        for path in write_reports(machine, results, options, args.out, args.docs):
            print(f"wrote {path}")
        return 0
    families = args.families or ("memory,sqlite" if args.quick else ",".join(FAMILIES))
    options = RunOptions(
        sizes=QUICK if args.quick else FULL,
        families=tuple(name.strip() for name in families.split(",") if name.strip()),
        workloads=frozenset(name.strip().upper() for name in args.workloads.split(",") if name.strip()),
        quick=args.quick,
        memory_modes=parse_modes(args.memory_modes)
        if args.memory_modes
        else (QUICK_MODES if args.quick else DEFAULT_MODES),
    )
    # A terminated run still drops its schemas, databases and temporary files (run's finally).
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        machine, results = asyncio.run(run(options))
    except SelfCheckError as error:
        print(error)
        return 2
    from benchmarks.report import write_reports

    paths = write_reports(machine, results, options, args.out, args.docs)
    for path in paths:
        print(f"wrote {path}")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
