"""haia.models."""
