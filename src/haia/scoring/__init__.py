"""haia.scoring."""
