"""Experiments the chapters run and show: small, seeded, CPU-only; torch allowed (they are not exercises).

Each module computes what a chapter's figure or widget needs and returns plain data
(lists and numbers), so that a widget can send it to the browser as traits.
"""
