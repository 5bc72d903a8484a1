"""Deno code of the API host, loaded as package data (never imported by Python)."""
