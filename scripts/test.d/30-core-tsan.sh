# The same suite under ThreadSanitizer.
# stage-timeout: 1800
zinc_ctest "core (tsan)" tsan -E install_and_consume
