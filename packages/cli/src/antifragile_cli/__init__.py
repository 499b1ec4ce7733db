"""The operator command `antifragile`."""
