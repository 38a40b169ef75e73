"""Use cases over the storage port and the pure domain: citizens, tokens, clock, payments, identity, webhooks."""
