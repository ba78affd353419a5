"""Offline voice phone bot and agent-assist engine for e-commerce and logistics customer service."""

__version__ = "0.1.0"
