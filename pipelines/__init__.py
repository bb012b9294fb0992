"""Item pipelines: one class per module, pure functions underneath (see pipelines/rules/)."""
