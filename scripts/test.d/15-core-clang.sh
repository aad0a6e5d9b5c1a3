# The unit suite built by clang with -Werror: the code is warning-free under both compilers.
# (The benchmarks are built here too, but their smoke runs once, in stage 80.)
zinc_ctest "core (clang)" clang -E install_and_consume -LE bench-smoke
