"""Pure rules of the portal's domain: standard library only, no HTTP, no storage."""
