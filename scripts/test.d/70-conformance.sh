# The conformance kit (tools/conformance): the reference passes it with --strict;
# each mutant of the core fails on the check named for its bug; a port with only
# the nine original functions passes; the vectors in spec/vectors are current and
# the reference agrees with every one; interop mode catches a private futex.
# Release build; about a minute on 2 cores.
# stage-timeout: 900
zinc_ctest "conformance" release -L conformance
