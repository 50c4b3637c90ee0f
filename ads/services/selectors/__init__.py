"""Shared reads (querysets and typed records) for the API, the admin and the commands: one
module per question, each reusing the engine's own definitions (the rule, the pacing)."""
