# `arca` CLI commands that work through a real `arca server` (restore_cli); filled in by its owner.
