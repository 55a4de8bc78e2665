"""haia.assessment."""
