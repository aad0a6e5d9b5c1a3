# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
zinc_ctest "core (asan+ubsan)" asan -E install_and_consume
