"""The dialogue layer: one caller turn through Rasa, call records, the bot's wording."""
