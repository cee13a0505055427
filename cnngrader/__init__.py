"""Instructor-side grading for the CNN course: never shipped to students."""
