"""Real local servers for the test suites, shared through a pytest plugin."""
