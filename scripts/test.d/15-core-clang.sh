# The unit suite built by clang with -Werror (the code is warning-free under
# both compilers) and run under AddressSanitizer + UndefinedBehaviorSanitizer:
# one build, the `clang` preset, which also holds the fuzz targets (stage 50).
# Everything but the fuzz smoke and install_and_consume runs here, the
# conformance kit's reference check and the fuzz replays included.
# stage-timeout: 2400
zinc_ctest "core (clang, asan+ubsan)" clang -E install_and_consume -LE fuzz-smoke
