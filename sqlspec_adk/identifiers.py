"""Identifier checks and quoting, done with sqlglot so every dialect quotes its own way."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from sqlspec_adk.errors import ConfigError

__all__ = ["ColumnDefinition", "parse_column_definition", "quote_identifier", "validate_identifier"]

# Plain identifiers only: they are portable across every supported dialect and
# never need quoting tricks. 63 is PostgreSQL's limit, the smallest of the family.
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def validate_identifier(value: object, key: str) -> str:
    """Return ``value`` if it is a plain SQL identifier, else raise ConfigError naming ``key``."""
    if not isinstance(value, str) or not _IDENTIFIER_RE.match(value):
        raise ConfigError(
            f"extension_config['adk'][{key!r}] must be a plain SQL identifier "
            f"(letters, digits, underscore; not starting with a digit; at most 63 characters), got {value!r}"
        )
    return value


def quote_identifier(name: str, dialect: str) -> str:
    """Quote an already validated identifier for ``dialect`` (a sqlglot dialect name)."""
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


@dataclass(frozen=True, slots=True)
class ColumnDefinition:
    """A validated ``owner_id_column`` value: the column name and its DDL fragment."""

    name: str
    ddl: str


def parse_column_definition(value: object, key: str = "owner_id_column") -> ColumnDefinition:
    """Parse a column definition such as ``"tenant_id INTEGER NOT NULL REFERENCES tenants(id)"``.

    The fragment is operator configuration that ends up in DDL, so it must parse
    as exactly one column definition with a type, and nothing else.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"extension_config['adk'][{key!r}] must be a column definition string, got {value!r}")
    text = value.strip()
    if ";" in text or "--" in text or "/*" in text:
        raise ConfigError(f"extension_config['adk'][{key!r}] must be a single column definition, got {value!r}")
    try:
        parsed = sqlglot.parse_one(f"CREATE TABLE t ({text})")
    except ParseError as error:
        raise ConfigError(
            f"extension_config['adk'][{key!r}] does not parse as a column definition: {value!r}"
        ) from error
    schema = parsed.this if isinstance(parsed, exp.Create) else None
    columns = list(schema.expressions) if isinstance(schema, exp.Schema) else []
    if len(columns) != 1 or not isinstance(columns[0], exp.ColumnDef) or columns[0].args.get("kind") is None:
        raise ConfigError(
            f"extension_config['adk'][{key!r}] must be exactly one column with a type "
            f"(e.g. 'tenant_id INTEGER'), got {value!r}"
        )
    name = validate_identifier(columns[0].name, key)
    return ColumnDefinition(name=name, ddl=text)
