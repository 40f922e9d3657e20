# Warnings we keep the code clean against.
function(dtrain_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    # g++ 12 reports false positives inside its own AVX-512 intrinsics as
    # inlined into Eigen kernels.
    -Wno-maybe-uninitialized
    # ... and -Wrestrict false positives inside std::string (GCC bug 105329).
    -Wno-restrict
    # Options structs are meant to be filled partly with designated initializers
    # ({.units = 10}); g++ 12 warns about every field left to its default.
    -Wno-missing-field-initializers)
  if(DTRAIN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
