"""Intake: partner files in, raw cells landed, mapped records out."""
