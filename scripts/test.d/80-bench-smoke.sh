# Each benchmark (bench/) runs for a fraction of a second and must finish
# cleanly; its numbers are not checked. scripts/bench runs them for real.
zinc_ctest "bench smoke" release -L bench-smoke
