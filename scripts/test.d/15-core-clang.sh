# The unit suite built by clang with -Werror: the code is warning-free under both compilers.
# (Benchmark smoke and conformance run once, in stages 80 and 70.)
zinc_ctest "core (clang)" clang -E install_and_consume -LE 'bench-smoke|conformance'
