# All compiler warnings and sanitizer switches live in one interface target: jpl_warnings.
add_library(jpl_warnings INTERFACE)
target_compile_options(jpl_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes
  -Wvla -Wformat=2 -Wno-sign-conversion)
target_compile_definitions(jpl_warnings INTERFACE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
if(JPL_WERROR)
  target_compile_options(jpl_warnings INTERFACE -Werror)
endif()
if(JPL_SANITIZE)
  target_compile_options(jpl_warnings INTERFACE -fsanitize=address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(jpl_warnings INTERFACE -fsanitize=address,undefined)
endif()
if(JPL_FUZZ)
  target_compile_options(jpl_warnings INTERFACE -fsanitize=fuzzer-no-link,address,undefined)
  target_link_options(jpl_warnings INTERFACE -fsanitize=address,undefined)
endif()

# Generated code (protoc-c output) gets no project warnings.
add_library(jpl_generated_flags INTERFACE)
if(JPL_SANITIZE OR JPL_FUZZ)
  target_compile_options(jpl_generated_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(jpl_generated_flags INTERFACE -fsanitize=address,undefined)
endif()
