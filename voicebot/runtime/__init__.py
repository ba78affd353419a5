"""Processes and files the engine runs on: model files, the Rasa and Piper child processes, the engine stack."""
