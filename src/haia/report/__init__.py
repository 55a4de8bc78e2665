"""haia.report."""
