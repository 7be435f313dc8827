"""Moving data in and out: ``import-adk`` (from ADK's own session databases) and JSON Lines export/import."""
