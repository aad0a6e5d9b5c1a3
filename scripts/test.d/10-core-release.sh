# Unit tests, ABI compatibility, exported symbols and install/consume, release build.
# (The benchmark smoke and the conformance kit share the release build; stages 80 and 70 run them.)
# stage-timeout: 1800
zinc_ctest "core (release)" release -LE 'bench-smoke|conformance'
