"""``python -m benchmarks``: run the harness and write JSON, markdown and the W2 plot."""

from benchmarks.cli import main

raise SystemExit(main())
