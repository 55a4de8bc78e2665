"""haia.portal."""
