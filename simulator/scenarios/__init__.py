"""Failure scenarios: the rule model, the scenario file loader and the ASGI middleware that injects faults."""
