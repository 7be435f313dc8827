"""Operator tasks over a configured database: running operations, retention (prune) and health checks (doctor)."""
