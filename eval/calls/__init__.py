"""Whole-call evaluation: scenarios, caller voices and phone-line conditions, checks and reports."""
