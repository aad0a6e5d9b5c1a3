# The same suite under ThreadSanitizer.
zinc_ctest "core (tsan)" tsan -E install_and_consume
