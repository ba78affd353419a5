"""Handing a call to a person: skill routing (which queue), the summary the agent reads."""
