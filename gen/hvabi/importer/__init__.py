"""`hvabi import`: C headers -> spec YAML (docs/import.md).

c_reader (libclang, one arch) -> merge (x86_64 + arm64 -> arch conditions) -> writer (YAML);
verify compares the written spec's layout with the compiler's.
"""
