# Installs the build into a scratch prefix and runs the installed `zinc`:
# it must find libzinc_core through its RPATH, with no LD_LIBRARY_PATH.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${err}")
endif()
if(NOT EXISTS ${PREFIX}/bin/zinc)
  message(FATAL_ERROR "bin/zinc was not installed")
endif()
set(ENV{LD_LIBRARY_PATH} "")
execute_process(COMMAND ${PREFIX}/bin/zinc --version RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^zinc [0-9.]+ \\(libzinc_core ABI 0x00020001")
  message(FATAL_ERROR "installed zinc --version failed (${rc}): ${out} ${err}")
endif()
execute_process(COMMAND ${PREFIX}/bin/zinc ls --prefix zinc-install-check-no-such-
                RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^no zinc regions")
  message(FATAL_ERROR "installed zinc ls failed (${rc}): ${out}")
endif()
message(STATUS "installed zinc runs: ${out}")
