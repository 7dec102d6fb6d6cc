"""Jobs for the multiprocess executor tests: worker processes import them, so they live in modules."""
