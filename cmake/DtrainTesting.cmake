# dtrain_add_unit_test(NAME src...): one gtest binary, each test registered in
# ctest with the label "unit". Parametrised tests are registered under their
# gtest names (NO_PRETTY_VALUES: without "# GetParam() = ..." appended), so every
# INSTANTIATE_TEST_SUITE_P gives a name generator (and its parameter a PrintTo
# or operator<< for gtest's own messages).
function(dtrain_add_unit_test name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE dtrain_test_support)
  dtrain_set_warnings(${name})
  gtest_discover_tests(${name} NO_PRETTY_VALUES PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()

# Open MPI refuses to run as root unless told; tests run as root in CI.
set(DTRAIN_MPIEXEC_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_rmaps_base_oversubscribe=1 CACHE INTERNAL "")

# dtrain_add_mpi_test(NAME SOURCES src... RANKS 1 2 3 4 [TIMEOUT s]): one binary,
# one ctest entry per rank count, run under mpiexec --oversubscribe.
function(dtrain_add_mpi_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;RANKS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE dtrain_test_support MPI::MPI_CXX)
  dtrain_set_warnings(${name})
  foreach(n ${ARG_RANKS})
    add_test(NAME ${name}_np${n}
      COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} --oversubscribe
              $<TARGET_FILE:${name}>)
    set_tests_properties(${name}_np${n} PROPERTIES LABELS mpi TIMEOUT ${ARG_TIMEOUT}
      ENVIRONMENT "${DTRAIN_MPIEXEC_ENV}")
  endforeach()
endfunction()
