"""ABI diff between two releases (docs/abi-diff.md): sources -> compare -> classify -> report."""
