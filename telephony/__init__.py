"""Telephony front ends: each turns a carrier's media stream into a voicebot call."""
