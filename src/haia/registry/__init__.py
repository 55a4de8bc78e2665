"""haia.registry."""
