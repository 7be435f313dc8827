"""Reliability checks: concurrency torture, crash atomicity, faults, hostile input, isolation (issue 9)."""
