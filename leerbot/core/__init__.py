"""What the community does: one module per capability. No import of discord here."""
