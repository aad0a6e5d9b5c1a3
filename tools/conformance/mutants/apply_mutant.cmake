# Copies src/ to DEST (a fresh copy each time) and applies PATCH to it with
# no fuzz: a mutant whose patch no longer applies fails the build, so the
# mutants keep up with src/. Run with cmake -P; see mutants/CMakeLists.txt.
foreach(var SOURCE DEST PATCH PATCH_EXECUTABLE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "apply_mutant.cmake needs -D${var}=...")
  endif()
endforeach()

get_filename_component(mutant ${PATCH} NAME_WE)
file(REMOVE_RECURSE ${DEST})
file(MAKE_DIRECTORY ${DEST})
file(COPY ${SOURCE}/ DESTINATION ${DEST}/src)
execute_process(
  COMMAND ${PATCH_EXECUTABLE} -p1 --fuzz=0 --batch --forward --no-backup-if-mismatch
          -d ${DEST} -i ${PATCH}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(NOT result EQUAL 0)
  message(FATAL_ERROR
    "mutant '${mutant}': ${PATCH} no longer applies to src/ (exact context, no fuzz).\n"
    "Update the patch so it injects the same bug into the current code.\n${output}")
endif()
# file(COPY) keeps the sources' timestamps; the build must see fresh outputs.
file(GLOB_RECURSE copied ${DEST}/src/*)
file(TOUCH ${copied})
