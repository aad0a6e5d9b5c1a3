# The unit suite built by clang with -Werror: the code is warning-free under both compilers.
zinc_ctest "core (clang)" clang -E install_and_consume -LE conformance
