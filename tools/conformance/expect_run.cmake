# Runs zinc-conformance on one library and asserts the outcome, so a test
# proves more than "it exited non-zero": the checks named in FAILING must be
# reported as failed (a mutant's bug caught where it should be), those in
# PASSING as passed, and every text in CONTAINS must appear in the report.
#
#   cmake -DKIT=... -DLIB=... -DEXPECT=pass|fail [-DARGS="--strict ..."]
#         [-DFAILING="check check"] [-DPASSING="check check"] [-DCONTAINS="text|text"]
#         -P expect_run.cmake
foreach(var KIT LIB EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "expect_run.cmake needs -D${var}=...")
  endif()
endforeach()
separate_arguments(args UNIX_COMMAND "${ARGS}")
separate_arguments(failing UNIX_COMMAND "${FAILING}")
separate_arguments(passing UNIX_COMMAND "${PASSING}")
string(REPLACE "|" ";" contains "${CONTAINS}")

execute_process(COMMAND ${KIT} --lib ${LIB} ${args}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)

set(problems "")
if(EXPECT STREQUAL "fail" AND NOT result EQUAL 1)
  list(APPEND problems "expected the run to fail (exit 1), it exited ${result}")
elseif(EXPECT STREQUAL "pass" AND NOT result EQUAL 0)
  list(APPEND problems "expected the run to pass (exit 0), it exited ${result}")
endif()
foreach(check ${failing})
  string(REPLACE "." "\\." pattern "${check}")
  if(NOT output MATCHES "\nFAIL  (required |extension)  ${pattern}[ \n]")
    list(APPEND problems "expected check ${check} to be reported as FAIL")
  endif()
endforeach()
foreach(check ${passing})
  string(REPLACE "." "\\." pattern "${check}")
  if(NOT output MATCHES "\nPASS  (required |extension)  ${pattern}\n")
    list(APPEND problems "expected check ${check} to be reported as PASS")
  endif()
endforeach()
foreach(text ${contains})
  string(FIND "${output}" "${text}" at)
  if(at EQUAL -1)
    list(APPEND problems "expected the report to contain: ${text}")
  endif()
endforeach()

# The run's failures, for the log.
string(REGEX MATCHALL "\nFAIL  [^\n]*" failed_lines "${output}")
string(REGEX MATCH "\n[0-9]+ checks in [^\n]*\nresult: [^\n]*" summary "${output}")
if(problems)
  list(JOIN problems "\n  " problems)
  message(FATAL_ERROR "${output}\n${errors}\n--- expectation not met:\n  ${problems}")
endif()
list(JOIN failed_lines "" failed_lines)
message(STATUS "as expected (${EXPECT}):${failed_lines}${summary}")
