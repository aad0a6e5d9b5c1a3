# The same suite under ThreadSanitizer, then the channel's threads test in a
# tree whose handles share one mapping per object, where TSan judges the
# memory orderings of spec §10 and its ordering mutants must each be
# reported (tests/ordering_mutants).
# stage-timeout: 1800
zinc_ctest "core (tsan)" tsan -E install_and_consume
zinc_ctest "core (tsan, shared mappings)" tsan-shared
