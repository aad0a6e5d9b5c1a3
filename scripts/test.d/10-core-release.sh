# Unit tests, ABI compatibility, exported symbols and install/consume, release build.
# (The benchmark smoke shares the release build; stage 80 runs it.)
zinc_ctest "core (release)" release -LE bench-smoke
