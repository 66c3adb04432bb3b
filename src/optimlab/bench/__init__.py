"""Benchmarks: tasks on real data (tasks, datasets, models) and optimizer-step timings."""
