# The original's layout: one directory holding libzinc_core.so and nothing
# else. The drop-in build must work there for programs linked against it
# (NEEDED libzinc_core.so, found and run), and the versioned build must not
# pretend to: its programs need libzinc_core.so.2, which the layout lacks.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/lib)

function(link_and_inspect library out_needed)
  file(COPY_FILE ${library} ${WORK_DIR}/lib/libzinc_core.so)
  execute_process(
    COMMAND ${CC} ${PROGRAM} -I${INCLUDE} -L${WORK_DIR}/lib -lzinc_core -o ${WORK_DIR}/program
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "linking against ${library} failed: ${err}")
  endif()
  execute_process(COMMAND readelf -d ${WORK_DIR}/program OUTPUT_VARIABLE dynamic)
  string(REGEX MATCH "Shared library: \\[libzinc_core[^]]*\\]" needed "${dynamic}")
  set(${out_needed} "${needed}" PARENT_SCOPE)
endfunction()

link_and_inspect(${DROPIN} needed)
if(NOT needed STREQUAL "Shared library: [libzinc_core.so]")
  message(FATAL_ERROR "a program linked against the drop-in library records '${needed}'")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${WORK_DIR}/lib ${WORK_DIR}/program
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the program did not run from the one-file layout (${rc}): ${out}${err}")
endif()
message(STATUS "drop-in: ${needed}, ${out}")

link_and_inspect(${VERSIONED} needed)
if(NOT needed STREQUAL "Shared library: [libzinc_core.so.2]")
  message(FATAL_ERROR "the versioned library was expected to record libzinc_core.so.2, got '${needed}'")
endif()
message(STATUS "versioned: ${needed} (needs the SONAME link, as installed by cmake --install)")
