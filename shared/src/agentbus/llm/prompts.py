"""Prompt templates kept as files next to each agent (`prompts/<action>.txt`), rendered with `$var`.

`string.Template` syntax (`$topic`, `${topic}`, `$$` for a dollar) is used rather than `str.format`
because prompts often show JSON examples, whose braces would otherwise all need escaping.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import ModuleType
from typing import Any

from agentbus.llm.errors import PromptTemplateError

PROMPTS_DIR = "prompts"
SUFFIX = ".txt"
_ACTION = re.compile(r"^[a-z][a-z0-9_]*$")


class PromptTemplate:
    """A named prompt with `$variables`; `render` fails loudly, listing every missing variable."""

    def __init__(self, text: str, *, name: str = "<string>") -> None:
        self.name = name
        self.text = text
        self._template = string.Template(text)
        if not self._template.is_valid():
            raise PromptTemplateError(
                f"prompt {name!r} has a malformed placeholder; write variables as $name or "
                "${name} and a literal dollar as $$"
            )
        self.variables: frozenset[str] = frozenset(self._template.get_identifiers())

    @classmethod
    def from_file(cls, path: str | Path | Traversable) -> PromptTemplate:
        """Load a template from a UTF-8 text file."""
        source = Path(path) if isinstance(path, str) else path
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as error:
            raise PromptTemplateError(
                f"cannot read prompt template {str(source)!r}: {error}; check the file exists "
                "and is packaged with the agent"
            ) from error
        return cls(text, name=str(source))

    def render(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> str:
        """Substitute the variables (from `values` and keyword arguments; extra ones are ignored)."""
        merged = {**(values or {}), **kwargs}
        missing = sorted(self.variables - merged.keys())
        if missing:
            raise PromptTemplateError(
                f"prompt {self.name!r} needs the variables {missing} that were not given "
                f"(given: {sorted(merged)})"
            )
        return self._template.substitute({k: str(v) for k, v in merged.items()})

    def __repr__(self) -> str:
        return f"PromptTemplate(name={self.name!r}, variables={sorted(self.variables)})"


def _prompts_dir(package: str | ModuleType | Path) -> Path | Traversable:
    if isinstance(package, Path):
        return package / PROMPTS_DIR
    try:
        return resources.files(package) / PROMPTS_DIR
    except (ModuleNotFoundError, TypeError) as error:
        raise PromptTemplateError(
            f"cannot locate package {package!r} to load its prompts: {error}") from error


def load_prompt(package: str | ModuleType | Path, action: str) -> PromptTemplate:
    """Load `prompts/<action>.txt` from a package (name or module) or a directory."""
    if not _ACTION.match(action):
        raise PromptTemplateError(
            f"prompt action {action!r} is not lower_snake_case; name files prompts/<action>.txt")
    directory = _prompts_dir(package)
    path = directory / f"{action}{SUFFIX}"
    if not path.is_file():
        available = sorted(
            e.name.removesuffix(SUFFIX) for e in directory.iterdir() if e.name.endswith(SUFFIX)
        ) if directory.is_dir() else []
        raise PromptTemplateError(
            f"no prompt {action!r}: {str(path)!r} does not exist (available: {available}); "
            f"add {PROMPTS_DIR}/{action}{SUFFIX} next to the agent"
        )
    return PromptTemplate.from_file(path)


def load_prompts(package: str | ModuleType | Path) -> dict[str, PromptTemplate]:
    """Load every `prompts/*.txt` of a package or directory, keyed by action, to fail fast at start."""
    directory = _prompts_dir(package)
    if not directory.is_dir():
        raise PromptTemplateError(
            f"{str(directory)!r} is not a directory; keep the agent's prompts in "
            f"{PROMPTS_DIR}/<action>{SUFFIX}")
    return {
        entry.name.removesuffix(SUFFIX): PromptTemplate.from_file(entry)
        for entry in sorted(directory.iterdir(), key=lambda e: e.name)
        if entry.is_file() and entry.name.endswith(SUFFIX)
    }
