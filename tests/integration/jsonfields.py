# SPDX-License-Identifier: GPL-2.0-or-later
"""The `fields` blocks of docs/json.md, parsed, and a validator of real
JSON output against them (docs/json.md, "The field tables").  Kept apart
from the tests so that the real-QEMU suite validates with the same code."""
import os
import re

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "json.md")
TYPES = {"string", "int", "number", "bool", "null", "address", "object", "array"}
_BLOCK = re.compile(r"^```fields (\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_ADDRESS = re.compile(r"^0x[0-9a-f]+$")


class Field:
    def __init__(self, path, types, optional):
        self.path, self.types, self.optional = path, types, optional


def parent(path):
    """'a.b[].c' -> 'a.b[]'; 'a[]' -> 'a'; 'a' -> '' (the top object)."""
    if path.endswith("[]"):
        return path[:-2]
    return path.rsplit(".", 1)[0] if "." in path else ""


def parse(doc=DOC):
    """{schema: {path: Field}}; ValueError naming the line for a bad block."""
    with open(doc) as f:
        text = f.read()
    tables = {}
    for match in _BLOCK.finditer(text):
        schema = match.group(1)
        line_no = text.count("\n", 0, match.start()) + 2
        if schema in tables:
            raise ValueError(f"{doc}:{line_no}: schema {schema} has two fields blocks")
        table = {}
        for i, line in enumerate(match.group(2).splitlines()):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ValueError(f"{doc}:{line_no + i}: not 'PATH TYPES': {line!r}")
            path, types = parts
            optional = path.endswith("?")
            path = path.rstrip("?")
            types = set(types.split("|"))
            if not types <= TYPES:
                raise ValueError(f"{doc}:{line_no + i}: unknown type {types - TYPES}")
            if path in table:
                raise ValueError(f"{doc}:{line_no + i}: {path} listed twice")
            up = parent(path)
            if up and up not in table:
                raise ValueError(f"{doc}:{line_no + i}: {path} before its parent {up}")
            if up and not ({"object"} if not path.endswith("[]") else {"array"}) & table[up].types:
                raise ValueError(f"{doc}:{line_no + i}: {path}: {up} is not of that kind")
            table[path] = Field(path, types, optional)
        if "schema" not in table:
            raise ValueError(f"{doc}:{line_no}: {schema} has no 'schema' field")
        tables[schema] = table
    return tables


def _type_ok(value, types):
    if value is None:
        return "null" in types
    if isinstance(value, bool):
        return "bool" in types
    if isinstance(value, int):
        return bool({"int", "number"} & types)
    if isinstance(value, float):
        return "number" in types
    if isinstance(value, str):
        return "string" in types or ("address" in types and bool(_ADDRESS.match(value)))
    if isinstance(value, list):
        return "array" in types
    return isinstance(value, dict) and "object" in types


def validate(document, tables):
    """Problems of one top-level JSON object, as strings (empty: valid):
    no or an undocumented schema, a field not in the table, a value of
    another type, a required field missing."""
    if not isinstance(document, dict) or "schema" not in document:
        return ["no \"schema\" field at the top"]
    table = tables.get(document["schema"])
    if table is None:
        return [f"schema {document['schema']!r} is not documented in docs/json.md"]
    problems = []
    required = {}
    for field in table.values():
        if not field.optional and not field.path.endswith("[]"):
            required.setdefault(parent(field.path), []).append(field.path.rsplit(".", 1)[-1])

    def walk(path, value):
        if isinstance(value, dict):
            for key in required.get(path, []):
                if key not in value:
                    problems.append(f"{(path + '.' if path else '') + key}: documented, missing")
            for key, item in value.items():
                check((path + "." if path else "") + key, item)
        elif isinstance(value, list):
            for item in value:
                check(path + "[]", item)

    def check(path, value):
        field = table.get(path)
        if field is None:
            problems.append(f"{path}: not documented in docs/json.md ({document['schema']})")
            return
        if not _type_ok(value, field.types):
            problems.append(f"{path}: {value!r} is not {'|'.join(sorted(field.types))}")
            return
        walk(path, value)

    walk("", document)
    return sorted(set(problems))   # one line per field, not per array element
