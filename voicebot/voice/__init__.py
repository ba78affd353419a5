"""The phone voice loop (pipecat): caller audio → Whisper → DialogueService → Piper → caller.

`pipeline.run_call` builds one pipeline per call over process-wide `VoiceResources`;
`call.CallDialogueProcessor` is where it meets our dialogue. Carriers (voicebot.telephony)
plug in through `carrier.CallInfo` and a serializer for their wire (see carrier.py).
"""
