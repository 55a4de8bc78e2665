"""haia.testing."""
