"""leerbot: a Discord bot that hosts a Community of Learners for Dutch recovery-oriented care."""

__version__ = "0.1.0"
