#!/usr/bin/env python3
"""Writes a C++ source that holds config/default.yaml, so the binary carries its factory state."""
import sys

source, output = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as f:
    text = f.read()
if ')__yaml__"' in text:
    sys.exit("default.yaml must not contain the raw-string delimiter")
with open(output, "w", encoding="utf-8") as f:
    f.write('// Generated from config/default.yaml by config/embed_default.py. Do not edit.\n')
    f.write('#include "config/config.h"\n\n')
    f.write('namespace bulwark::config {\n\n')
    f.write('Source default_source() {\n')
    f.write('  return {"<built-in default>", R"__yaml__(' + text + ')__yaml__"};\n')
    f.write('}\n\n}  // namespace bulwark::config\n')
