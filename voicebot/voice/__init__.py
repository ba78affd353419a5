"""The phone voice loop (pipecat): caller audio → Whisper → DialogueService → Piper → caller.

`pipeline.run_call` builds one pipeline per call over process-wide `VoiceResources`;
`dialogue.CallDialogueProcessor` is the only piece that knows about our dialogue.
"""
