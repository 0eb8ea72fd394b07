"""Serving backends: each translates a request into one engine's call and its failures into CallError."""
