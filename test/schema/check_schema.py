#!/usr/bin/python3
"""Validate Bulwark YAML configuration files against docs/bulwark.schema.json.

    /usr/bin/python3 test/schema/check_schema.py SCHEMA FILE...
    /usr/bin/python3 test/schema/check_schema.py --expect-invalid SCHEMA FILE...

Prints `ok FILE` or one `FAIL FILE: <path>: <message>` line per error, and exits 1 if any file
fails. <path> is written as bulwark check writes it (`firewall.incoming.rules[1].action`, list
entries counted from 1). With --expect-invalid every file must fail validation; a file that validates is reported
as `FAIL FILE: ...` and makes the exit status 1.

Needs Debian's python3-jsonschema and python3-yaml (run it with /usr/bin/python3).

The files are read as YAML 1.2 (core schema), like yaml-cpp (bulwark) and yaml-language-server
do, not with PyYAML's YAML 1.1 rules: `on`/`off`/`yes`/`no` stay strings, `04:17` and `1:30` are
not base-60 numbers, `010` is ten, and dates stay strings.
"""
import argparse
import difflib
import json
import re
import sys

import jsonschema
import yaml


class Yaml12SafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader with YAML 1.2 core-schema implicit typing (still safe: plain data only)."""


Yaml12SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                           "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Yaml12SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
Yaml12SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_int12(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


Yaml12SafeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int12)


def yaml_path(path):
    """`firewall.incoming.rules[1].action`: list entries count from 1, as bulwark check does."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def short(value, limit=80):
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def explain(error):
    """Yield (path, message) pairs for one jsonschema error, made readable."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        for key in error.instance:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            yield yaml_path(path + [key]), f"unknown key '{key}'{hint}"
        return
    if error.validator in ("anyOf", "oneOf") and error.context:
        if isinstance(error.instance, (dict, list)):
            # An object or list that fits no alternative: report the errors of the alternative
            # that got furthest, ignoring alternatives that want a different type altogether.
            branches = {}
            for sub in error.context:
                if not sub.relative_path and sub.validator in ("type", "const", "enum"):
                    branches.setdefault(sub.relative_schema_path[0], None)
                    continue
                branches.setdefault(sub.relative_schema_path[0], [])
                if branches[sub.relative_schema_path[0]] is not None:
                    branches[sub.relative_schema_path[0]].append(sub)
            candidates = [errs for errs in branches.values() if errs]
            if candidates:
                best = max(candidates, key=lambda errs: max(len(e.relative_path) for e in errs))
                for sub in best:
                    yield from explain(sub)
                return
        desc = error.schema.get("description")
        if desc and error.validator == "anyOf":
            yield yaml_path(path), f"{short(error.instance)} is not valid here: expected {desc}"
            return
    if error.validator == "oneOf" and not error.context:
        keys = [k for alt in error.validator_value for k in alt.get("required", [])]
        what = " or ".join(f"'{k}'" for k in keys) if keys else "the alternatives"
        yield yaml_path(path), f"give exactly one of {what}"
        return
    if error.validator == "contains":
        desc = error.schema.get("description", "a matching item")
        yield yaml_path(path), f"needs {desc}"
        return
    if error.schema is False or (error.validator == "not" and error.validator_value == {}):
        # A forbidden key: not allowed in this combination (e.g. ports with gre).
        why = error.schema.get("description") if isinstance(error.schema, dict) else None
        yield yaml_path(path), "not allowed here" + (f": {why}" if why else "")
        return
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    desc = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "const" and desc:
        message += f" ({desc})"
    elif error.validator == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        message = f"{short(error.instance)} is not of type " + " or ".join(repr(t) for t in types)
        if desc:
            message += f" (expected {desc})"
    elif error.validator == "pattern" and desc:
        message = f"{short(error.instance)} is not valid: expected {desc}"
    yield yaml_path(path), message


def check_file(validator, filename):
    """Return a list of (path, message) errors; empty when the file is valid."""
    try:
        with open(filename, encoding="utf-8") as f:
            documents = list(yaml.load_all(f, Loader=Yaml12SafeLoader))
    except OSError as e:
        return [("(file)", str(e))]
    except yaml.YAMLError as e:
        return [("(yaml)", " ".join(str(e).split()))]
    if len(documents) != 1:
        return [("(yaml)", f"expected exactly one YAML document, found {len(documents)}")]
    data = documents[0]
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for error in errors:
        for item in explain(error):
            if item not in out:
                out.append(item)
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expect-invalid", action="store_true",
                        help="every FILE must fail validation")
    parser.add_argument("schema")
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    failed = False
    for filename in args.files:
        errors = check_file(validator, filename)
        if args.expect_invalid:
            if errors:
                print(f"ok {filename} (invalid as expected)")
                for path, message in errors:
                    print(f"  rejected: {path}: {message}")
            else:
                print(f"FAIL {filename}: (top level): validates, but was expected to be invalid")
                failed = True
        else:
            if errors:
                for path, message in errors:
                    print(f"FAIL {filename}: {path}: {message}")
                failed = True
            else:
                print(f"ok {filename}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
