"""Carriers: each maps its wire protocol onto the carrier-agnostic call pipeline in voicebot.voice."""
