"""The phone voice loop's speech side: Whisper (speech to text) and Piper (text to speech)."""
