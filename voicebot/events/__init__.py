"""The event stream that the agent desktop and other clients subscribe to (docs/events.md)."""
