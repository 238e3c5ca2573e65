# `arca` CLI commands that work through a real `arca server` (backup_cli); filled in by its owner.
