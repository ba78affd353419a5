"""HTTP APIs of the engine."""
