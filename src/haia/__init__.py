"""haia: independent audit, impact assessment and governance of AI used in health care."""

__version__ = "0.1.0"
