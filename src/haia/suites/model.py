"""The suite and item data model (validated with pydantic).

A suite is a named, versioned set of items. An item is a prompt (chat messages, or a single
``prompt`` string), optionally multiple-choice ``choices``, an expected ``answer`` or a ``rubric``,
and ``attributes`` naming the population group it stands for. See ``docs/suite-format.md``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from haia.canonical import canonical_hash


class Principle(StrEnum):
    """The six WHO principles for the ethics and governance of AI for health."""

    autonomy = "autonomy"
    wellbeing_safety = "wellbeing_safety"
    transparency = "transparency"
    accountability = "accountability"
    equity = "equity"
    sustainability = "sustainability"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextPart(_Strict):
    """A text segment of a message."""

    type: Literal["text"] = "text"
    text: str


class ImagePart(_Strict):
    """An image, as a data URL (``data:image/png;base64,...``) or a path inside the suite folder."""

    type: Literal["image"] = "image"
    image: str
    detail: str | None = None


class DataPart(_Strict):
    """Structured data (a vital-signs series, a lab panel) rendered to the model as JSON text."""

    type: Literal["data"] = "data"
    data: Any
    caption: str | None = None


Part = Annotated[TextPart | ImagePart | DataPart, Field(discriminator="type")]


class Message(_Strict):
    """One chat message."""

    role: Literal["system", "user", "assistant"]
    content: str | list[Part]

    @property
    def modalities(self) -> set[str]:
        """The kinds of part this message holds (``text``, ``image``, ``data``)."""
        if isinstance(self.content, str):
            return {"text"}
        return {p.type for p in self.content}


class Criterion(_Strict):
    """A rubric criterion: ``points`` (negative for harms) awarded when the criterion is met.

    ``patterns`` are case-insensitive regular expressions used by the rule-based grader; a judge
    model reads ``text``.
    """

    id: str
    text: str
    points: float
    patterns: list[str] = Field(default_factory=list)


class Item(_Strict):
    """One audit item."""

    id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.:\-]+$")]
    messages: list[Message] = Field(default_factory=list)
    prompt: str | None = None
    system: str | None = None
    choices: dict[str, str] | None = None
    answer: str | list[str] | None = None
    aliases: list[str] = Field(default_factory=list)
    rubric: list[Criterion] | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    family: str | None = None
    variant: str | None = None
    principles: list[Principle] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    scorers: list[str] | None = None
    rationale: str | None = None
    source: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_input(self) -> Item:
        if bool(self.messages) == (self.prompt is not None):
            raise ValueError("give exactly one of 'prompt' or 'messages'")
        if self.choices is not None:
            if len(self.choices) < 2:
                raise ValueError("'choices' needs at least two options")
            if isinstance(self.answer, str) and self.answer not in self.choices:
                raise ValueError(f"'answer' {self.answer!r} is not one of the choices")
        return self

    @field_validator("attributes", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @property
    def modalities(self) -> set[str]:
        """Every kind of input part the item uses."""
        kinds: set[str] = {"text"}
        for message in self.messages:
            kinds |= message.modalities
        return kinds


class SuiteMeta(_Strict):
    """A suite's own metadata."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    version: str
    description: str
    provenance: str
    licence: str
    principles: list[Principle] = Field(default_factory=list)
    scorers: list[str] = Field(default_factory=lambda: ["choice"])
    metrics: list[str] = Field(default_factory=list)
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    samples: Annotated[int, Field(ge=1)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    structured: bool | None = None
    tags: list[str] = Field(default_factory=list)


class Suite(BaseModel):
    """A loaded suite: its metadata, its items, and where it came from."""

    model_config = ConfigDict(extra="forbid")

    meta: SuiteMeta
    items: list[Item]
    path: str | None = None

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def version(self) -> str:
        return self.meta.version

    def scorers_for(self, item: Item) -> list[str]:
        """The scorers that apply to ``item`` (its own, else the suite's)."""
        return list(item.scorers if item.scorers is not None else self.meta.scorers)

    def content_hash(self) -> str:
        """SHA-256 of the canonical suite content, to tell whether a resumed run's suite changed."""
        payload = {
            "meta": _without_unset(self.meta.model_dump(mode="json"), LATER_META_FIELDS),
            "items": [_without_unset(i.model_dump(mode="json"), LATER_ITEM_FIELDS)
                      for i in self.items],
        }
        return canonical_hash(payload)


# Optional fields added after the first suite format: left out of the hash while unset, so a
# suite's hash (checked when a run resumes) does not change with the haia version.
LATER_META_FIELDS = ("structured",)
LATER_ITEM_FIELDS = ("aliases",)


def _without_unset(data: dict[str, Any], later: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k in later and v in (None, [], {}))}
