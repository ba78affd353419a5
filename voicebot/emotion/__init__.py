"""The caller's emotion, turn by turn.

For now from the words alone (`text.TextEmotion`); a voice-based signal can replace or
join it later without changing its users: routing, the handoff summary and the
sustained-anger handoff all read plain labels.
"""

from voicebot.emotion.text import EMOTIONS, TextEmotion, repeat_contact, sustained_anger

__all__ = ["EMOTIONS", "TextEmotion", "repeat_contact", "sustained_anger"]
