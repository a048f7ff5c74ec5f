# Build rules for CO-RE BPF objects: vmlinux.h from BTF, clang -target bpf,
# and a libbpf skeleton header per object.

find_program(BPFTOOL_EXE NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)
# The clang that compiles the BPF objects, independent of the C++ compiler:
# Debian 12 ships clang (14) and clang-19; both are tested
# (tests/build/generators_test.sh). A name on PATH or an absolute path.
set(REDLINE_BPF_CLANG "clang" CACHE STRING
    "clang for the BPF objects: clang (14), clang-19, or a path")
# Searched at each configure (an earlier build tree cached BPF_CLANG_EXE,
# which would hide a changed REDLINE_BPF_CLANG).
unset(BPF_CLANG_EXE CACHE)
find_program(BPF_CLANG_EXE NAMES ${REDLINE_BPF_CLANG} NO_CACHE)
if(NOT BPF_CLANG_EXE)
  message(FATAL_ERROR "REDLINE_BPF_CLANG='${REDLINE_BPF_CLANG}' not found: "
    "install it (Debian 12: clang or clang-19) or pass another with "
    "-DREDLINE_BPF_CLANG=clang-19")
endif()
execute_process(COMMAND "${BPF_CLANG_EXE}" --version
                OUTPUT_VARIABLE _bpf_clang_version ERROR_QUIET)
string(REGEX MATCH "version [0-9.]+" _bpf_clang_version "${_bpf_clang_version}")
message(STATUS "BPF objects: ${BPF_CLANG_EXE} (${_bpf_clang_version})")

if(NOT EXISTS "${REDLINE_BTF_PATH}")
  message(FATAL_ERROR
    "No kernel BTF at '${REDLINE_BTF_PATH}'. This kernel was built without "
    "CONFIG_DEBUG_INFO_BTF; pass a BTF file for the target kernel with "
    "-DREDLINE_BTF_PATH=/path/to/vmlinux.btf")
endif()

set(BPF_GEN_DIR "${CMAKE_BINARY_DIR}/bpf")
file(MAKE_DIRECTORY "${BPF_GEN_DIR}")

add_custom_command(
  OUTPUT "${BPF_GEN_DIR}/vmlinux.h"
  COMMAND "${BPFTOOL_EXE}" btf dump file "${REDLINE_BTF_PATH}" format c
          > "${BPF_GEN_DIR}/vmlinux.h.tmp"
  COMMAND ${CMAKE_COMMAND} -E rename "${BPF_GEN_DIR}/vmlinux.h.tmp"
          "${BPF_GEN_DIR}/vmlinux.h"
  DEPENDS "${REDLINE_BTF_PATH}"
  COMMENT "Generating vmlinux.h from ${REDLINE_BTF_PATH}"
  VERBATIM)
add_custom_target(vmlinux_h DEPENDS "${BPF_GEN_DIR}/vmlinux.h")

string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _bpf_arch)
if(_bpf_arch MATCHES "x86_64|amd64")
  set(BPF_TARGET_ARCH x86)
elseif(_bpf_arch MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  set(BPF_TARGET_ARCH ${_bpf_arch})
endif()

# bpf_object(NAME SOURCE): compiles bpf/NAME.bpf.c into NAME.bpf.o, generates
# NAME.skel.h, and defines the INTERFACE target NAME_skel that carries the
# include path of the skeleton and the shared header.
function(bpf_object NAME SOURCE)
  set(_obj "${BPF_GEN_DIR}/${NAME}.bpf.o")
  set(_skel "${BPF_GEN_DIR}/${NAME}.skel.h")
  get_filename_component(_src "${SOURCE}" ABSOLUTE)
  get_filename_component(_srcdir "${_src}" DIRECTORY)
  file(GLOB _hdrs CONFIGURE_DEPENDS "${_srcdir}/*.h")
  add_custom_command(
    OUTPUT "${_obj}"
    COMMAND "${BPF_CLANG_EXE}" -target bpf -g -O2 -Wall -Werror
            -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -I "${BPF_GEN_DIR}" -I "${_srcdir}"
            -c "${_src}" -o "${_obj}"
    DEPENDS "${_src}" ${_hdrs} "${BPF_GEN_DIR}/vmlinux.h"
    COMMENT "BPF ${NAME}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT "${_skel}"
    COMMAND "${BPFTOOL_EXE}" gen skeleton "${_obj}" name "${NAME}_bpf"
            > "${_skel}.tmp"
    COMMAND ${CMAKE_COMMAND} -E rename "${_skel}.tmp" "${_skel}"
    DEPENDS "${_obj}"
    COMMENT "Skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(${NAME}_skel_gen DEPENDS "${_skel}")
  # vmlinux.h is the output of a custom command in the top directory: with
  # the Makefiles generator a file dependency across directories has no
  # rule ("No rule to make target 'bpf/vmlinux.h'"); the target dependency
  # builds it first, after which it is a plain existing file.
  add_dependencies(${NAME}_skel_gen vmlinux_h)
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  # Not the source dir: bpf/sched.h would shadow libc's <sched.h>. C++ includes
  # the shared headers as "bpf/<concern>.h".
  target_include_directories(${NAME}_skel INTERFACE "${BPF_GEN_DIR}")
  target_link_libraries(${NAME}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
