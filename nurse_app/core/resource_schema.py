"""JSON Schema of every content file, for content authors (``resources/schema/``).

Generated from the pydantic models in :mod:`nurse_app.core.resource_models`, one file per
kind of content file.  An editor with JSON Schema support for TOML (e.g. the Even Better
TOML extension, or taplo) can then check a file while it is written.  The schema says
the shape (keys, types, ranges, allowed words); the rules that look across fields or
files (a source key listed in [sources], ``soft_*`` inside ``hard_*``, an indication
from regimens.toml) are checked by the app: run ``nurse-app --selftest``.

    python -m nurse_app.core.resource_schema --write   # regenerate after changing a model
    python -m nurse_app.core.resource_schema --check   # exit 1 when a file is out of date

``tests/core/test_resource_models.py`` fails when a checked-in schema differs from the models.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# kind (resource_models.MODELS) -> schema file name
SCHEMA_FILES = {
    "products.toml": "products.schema.json",
    "regimens.toml": "regimens.schema.json",
    "limits.toml": "limits.schema.json",
    "checklist": "checklist.schema.json",
    "reactions.toml": "reactions.schema.json",
    "vitals.toml": "vitals.schema.json",
    "monitoring.toml": "monitoring.schema.json",
    "followups.toml": "followups.schema.json",
    "guide": "guide-front-matter.schema.json",
    "guide-translation": "guide-translation-front-matter.schema.json",
    "languages.toml": "languages.schema.json",
    "verification.toml": "verification.schema.json",
    "visit_proof.toml": "visit-proof.schema.json",
}


def schema_dir() -> Path:
    from nurse_app.core.resources import resource_root

    return Path(str(resource_root())) / "schema"


def _plain_numbers(node: Any) -> Any:
    """The same schema text from every supported pydantic: whole floats as integers (``0`` not
    ``0.0``; older releases write a float field's bounds as floats) and a one-value Literal as
    ``const`` alone (older releases add the same value as a one-item ``enum``)."""
    if isinstance(node, dict):
        if "const" in node and node.get("enum") == [node["const"]]:
            node = {k: v for k, v in node.items() if k != "enum"}
        return {k: _plain_numbers(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain_numbers(v) for v in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def render(kind: str) -> str:
    """The schema text of one kind of file (stable: sorted keys, two-space indent, final newline)."""
    from nurse_app.core.resource_models import MODELS

    schema = MODELS[kind].model_json_schema(by_alias=True, mode="validation")
    schema = _plain_numbers({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema})
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale(folder: Path | None = None) -> list[str]:
    """Schema files that are missing or differ from the models."""
    folder = folder or schema_dir()
    out = []
    for kind, name in SCHEMA_FILES.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render(kind):
            out.append(name)
    return out


def write(folder: Path | None = None) -> list[str]:
    folder = folder or schema_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, name in SCHEMA_FILES.items():
        text = render(kind)
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate resources/schema/*.schema.json")
    group.add_argument("--check", action="store_true", help="exit 1 when a schema file is out of date")
    args = parser.parse_args(argv)
    if args.write:
        written = write()
        print(f"wrote {', '.join(written)}" if written else "schemas already up to date")
        return 0
    out_of_date = stale()
    if out_of_date:
        print(
            f"out of date: {', '.join(out_of_date)} (python -m nurse_app.core.resource_schema --write)",
            file=sys.stderr,
        )
        return 1
    print("schemas match the models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
