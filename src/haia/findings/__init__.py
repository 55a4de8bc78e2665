"""haia.findings."""
