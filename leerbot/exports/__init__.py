"""Renderers for coordinators and members: pure functions from query results to bytes."""
