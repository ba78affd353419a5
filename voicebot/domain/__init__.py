"""The domain layer: plain types, errors and rules (no database, no HTTP, no audio)."""
