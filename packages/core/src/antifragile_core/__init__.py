"""Shared contracts, settings and storage for the Antifragile Flow workers."""
