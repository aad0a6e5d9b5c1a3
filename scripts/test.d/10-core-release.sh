# Unit tests, ABI compatibility, exported symbols and install/consume, release build.
zinc_ctest "core (release)" release -LE conformance
