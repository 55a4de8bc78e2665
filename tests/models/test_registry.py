"""Model specs: each kind parses, and every bad spec is a clear error."""

from __future__ import annotations

import pytest

from haia.errors import ModelSpecError
from haia.models.registry import create_adapter, parse_spec


@pytest.mark.parametrize(("spec", "message"), [
    ("gpt4", "expected builtin:NAME, openai:MODEL@BASE_URL or hf:PATH"),
    ("foo:bar", "unknown kind 'foo'"),
    ("openai:gpt-4o", "expected openai:MODEL@http(s)://HOST/v1"),
    ("openai:gpt-4o@localhost:8000", "expected openai:MODEL@http(s)://HOST/v1"),
    ("builtin:gpt5", "unknown builtin model 'gpt5'"),
])
def test_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(ModelSpecError) as caught:
        create_adapter(spec)
    assert message in str(caught.value)


def test_parse_spec_keeps_colons_in_rest() -> None:
    assert parse_spec("openai:m@http://h:1/v1") == ("openai", "m@http://h:1/v1")
