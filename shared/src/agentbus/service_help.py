"""`--help` for service processes: what the process does and every environment variable it reads.

Services are configured by environment variables only, so their command line takes no options but
`--help`; the list of variables is made from the settings classes themselves, so it cannot drift.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence

from pydantic import SecretStr
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

_WIDTH = 100


def _default_text(value: object) -> str:
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    return str(value)


def settings_help(*classes: type[BaseSettings]) -> str:
    """One entry per environment variable the classes read: name, default and description."""
    lines: list[str] = []
    seen: set[str] = set()
    for cls in classes:
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name, field in cls.model_fields.items():
            nested = field.annotation
            if isinstance(nested, type) and issubclass(nested, BaseSettings):
                lines.extend(settings_help(nested).splitlines())
                continue
            env = (field.alias or f"{prefix}{name}").upper()
            if env in seen:
                continue
            seen.add(env)
            default = "computed" if field.default_factory is not None else _default_text(field.default)
            lines.append(f"  {env} (default: {default})")
            if field.description:
                lines.extend(textwrap.wrap(field.description, _WIDTH, initial_indent=" " * 6,
                                           subsequent_indent=" " * 6))
    return "\n".join(lines)


def parse_service_args(prog: str, description: str, classes: Sequence[type[BaseSettings]],
                       argv: Sequence[str] | None = None, *, notes: str = "") -> None:
    """Answer `--help` (then exit 0) and refuse any other argument (exit 2): settings are env vars."""
    epilog = "settings (environment variables):\n" + settings_help(*classes)
    if notes:
        epilog += "\n\n" + textwrap.fill(notes, _WIDTH)
    paragraphs = (textwrap.fill(" ".join(p.split()), _WIDTH) for p in description.split("\n\n"))
    parser = argparse.ArgumentParser(prog=prog, description="\n\n".join(paragraphs), epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
