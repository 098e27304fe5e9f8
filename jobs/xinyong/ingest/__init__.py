"""Ingestion: verify deliveries against their manifests, parse them, load them with their history."""
