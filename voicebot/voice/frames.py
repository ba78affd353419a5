"""The voice layer's own frames, which each carrier's serializer maps onto its wire."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipecat.frames.frames import OutputTransportMessageFrame, SystemFrame

from voicebot.voice.turns import TurnExpectation


@dataclass
class BotTurnSpokenFrame(OutputTransportMessageFrame):
    """Queued behind one bot turn's speech, so it reaches the carrier once that audio was sent.

    The carrier's serializer turns it into the carrier's own marker, which the carrier
    reports back once the caller has heard the audio before it. It is an
    OutputTransportMessageFrame because the output transport sends those in order with
    the audio, through the serializer; and an interruptible data frame, so a barge-in
    drops it with the speech it follows. A carrier's serializer must map it (or drop
    it, returning None) before falling back to pipecat's generic transport-message
    path, which expects a dict `message`.

    Parameters:
        turn: the bot turn's number in the call, from 1.
        message: its label, "bot-turn-<turn>"; set from `turn`.
    """

    turn: int
    message: str = field(init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.message = f"bot-turn-{self.turn}"


@dataclass
class ExpectedAnswerFrame(SystemFrame):
    """Sent upstream after each bot turn: what the caller's answer should hold.

    The recogniser reads it to bias Whisper towards digits only while a number is
    expected (`Settings.whisper_prompt_when`), since the digit-heavy domain prompt makes
    Whisper hear shop sentences in speech that is about something else.
    """

    expected: TurnExpectation


@dataclass
class SpeechFailedFrame(SystemFrame):
    """Sent upstream by the TTS when a sentence could not be synthesised, even on a retry.

    The caller heard the pre-rendered apology instead (if it was not played already in
    this call); the dialogue processor hands the call to a person and the call record
    notes what was not spoken. A call never goes on in silence.
    """

    text: str
