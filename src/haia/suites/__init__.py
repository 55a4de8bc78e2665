"""haia.suites."""
