"""The agent desktop: agents sign in, take handed-off calls, see their context, wrap up.

`agents.py` holds accounts and sessions, `desk.py` the queue and call work, `routes.py`
the thin HTTP/WebSocket layer (its event stream relays voicebot.events), `static/` the page.
"""
