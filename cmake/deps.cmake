# Finds the Debian-packaged dependencies (tools/setup.sh installs them) as imported targets.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)

find_program(PROTOC_C protoc-c REQUIRED)

find_path(ROCKSDB_INCLUDE_DIR rocksdb/c.h REQUIRED)
find_library(ROCKSDB_LIBRARY rocksdb REQUIRED)
add_library(jpl_rocksdb INTERFACE)
target_include_directories(jpl_rocksdb INTERFACE ${ROCKSDB_INCLUDE_DIR})
target_link_libraries(jpl_rocksdb INTERFACE ${ROCKSDB_LIBRARY})

find_path(NNG_INCLUDE_DIR nng/nng.h REQUIRED)
find_library(NNG_LIBRARY nng REQUIRED)
add_library(jpl_nng INTERFACE)
target_include_directories(jpl_nng INTERFACE ${NNG_INCLUDE_DIR})
target_link_libraries(jpl_nng INTERFACE ${NNG_LIBRARY} Threads::Threads)
