"""Test doubles shipped with haia: a scriptable OpenAI-compatible server."""
