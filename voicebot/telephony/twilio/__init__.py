"""Twilio Media Streams: handshake, serializer, routes, transfer TwiML, and a scripted test caller."""
