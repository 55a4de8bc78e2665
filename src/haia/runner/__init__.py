"""haia.runner."""
