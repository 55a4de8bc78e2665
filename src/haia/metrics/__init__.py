"""haia.metrics."""
