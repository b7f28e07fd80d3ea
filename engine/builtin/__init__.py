"""The builtin models: a procedural world (world.py), their trainer (train.py), their probe (probe.py),
and the shipped weights (weights/). See MODEL_CARD.md."""
