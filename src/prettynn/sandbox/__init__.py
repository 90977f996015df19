"""Running a student's solution cell in a process of its own, away from the grader.

``runner`` (grader side) prepares a job folder, starts ``child`` in a sandbox and reads
back what the student's function returned; ``child`` is the only code that runs beside
the student's, and it imports nothing but the standard library and NumPy.
"""
