"""Handlers of the operator's endpoints at the root (openapi/ops.yaml): /metrics."""
