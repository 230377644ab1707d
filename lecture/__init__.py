"""The lecture as data and the main job that regenerates every figure (and, later, the report)."""
