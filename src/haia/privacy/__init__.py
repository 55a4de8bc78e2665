"""haia.privacy."""
