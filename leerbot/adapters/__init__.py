"""Front ends: they talk to people and machines, and hold no rules of their own."""
