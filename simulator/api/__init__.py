"""Thin connexion handlers for the citizen and payments APIs, one module per spec tag."""
