"""The OAuth 2.0 / OpenID Connect provider: discovery, authorization pages, grants, token endpoints."""
