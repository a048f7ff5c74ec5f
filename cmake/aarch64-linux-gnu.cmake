# Cross build for arm64 (aarch64) with Debian's cross compiler
# (g++-aarch64-linux-gnu) against a sysroot of Debian's :arm64 packages,
# unpacked rather than installed (scripts/cross-arm64.py makes one: some
# -dev packages are not Multi-Arch: same, so installing them beside the
# host's would remove the host's). The BPF objects are compiled for
# __TARGET_ARCH_arm64 (cmake/bpf.cmake reads CMAKE_SYSTEM_PROCESSOR) and
# need an arm64 kernel's BTF: -DREDLINE_BTF_PATH.
#
#   cmake -S . -B build-arm64 --toolchain cmake/aarch64-linux-gnu.cmake \
#     -DREDLINE_ARM64_SYSROOT=/path/to/sysroot -DREDLINE_BTF_PATH=arm64.btf
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# The toolchain file runs again for each try_compile, where only listed
# variables reach it.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES REDLINE_ARM64_SYSROOT)
if(NOT REDLINE_ARM64_SYSROOT OR NOT EXISTS "${REDLINE_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu")
  message(FATAL_ERROR "REDLINE_ARM64_SYSROOT='${REDLINE_ARM64_SYSROOT}' is "
    "not an arm64 sysroot: make one with scripts/cross-arm64.py")
endif()
set(CMAKE_SYSROOT "${REDLINE_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # protoc, bpftool: the host's
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# The host's pkg-config reads the sysroot's .pc files and prefixes paths.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${REDLINE_ARM64_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${REDLINE_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${REDLINE_ARM64_SYSROOT}/usr/share/pkgconfig")
