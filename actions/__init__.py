"""Rasa custom actions (rasa_sdk), one module per area, and the platform client."""
