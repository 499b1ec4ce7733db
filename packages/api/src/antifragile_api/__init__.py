"""The organisation's front door: HTTP API and web portal over the fleet."""
