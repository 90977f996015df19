"""Instructor tooling: nbgrader extensions, book page generation, release checks."""
