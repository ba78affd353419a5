"""Custom actions of the phone bot: the order, address and refund flows.

The action server imports this package (`rasa run actions --actions actions`);
order data comes from the engine's order API (see engine_api.py).
"""
