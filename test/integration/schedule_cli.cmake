# `arca` CLI commands that work through a real `arca server` (schedule_cli); filled in by its owner.
