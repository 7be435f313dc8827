"""Adapters: connection glue per driver. Each picks up its SQL from a dialect module."""
