# The same suite under ThreadSanitizer.
# stage-timeout: 900
zinc_ctest "core (tsan)" tsan -E install_and_consume
