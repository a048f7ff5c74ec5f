// Known syscall workload for integration tests and benchmarks.
//
// usage: rl_sysstorm GETPPID_CALLS OPENAT_FAILS [--wait] [--comm NAME]
//                    [--comm-after-ms MS]
// With --wait it prints its pid, waits for a line on stdin (so an observer
// can attach), runs the workload, prints "done", and runs it again for each
// further line until stdin's EOF, when it exits. The comm is the binary
// name, rl_sysstorm, unless --comm renames it (benchmarks use distinct comms
// to create distinct series); --comm-after-ms sleeps first, as a daemon that
// renames itself once initialised.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// The workload: n getppid, then m openat that fail with ENOENT.
static void run(long n, long m) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (long i = 0; i < m; i++) {
    syscall(SYS_openat, AT_FDCWD, "/nonexistent/redline-test", O_RDONLY);
  }
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("done ns_per_getppid=%.1f\n", n ? ns / n : 0.0);
  fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr,
            "usage: %s GETPPID_CALLS OPENAT_FAILS [--wait] [--comm NAME] "
            "[--comm-after-ms MS]\n",
            argv[0]);
    return 2;
  }
  const long n = atol(argv[1]);
  const long m = atol(argv[2]);
  int wait = 0;
  const char* comm = NULL;
  long comm_after_ms = 0;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--wait") == 0) {
      wait = 1;
    } else if (strcmp(argv[i], "--comm") == 0 && i + 1 < argc) {
      comm = argv[++i];
    } else if (strcmp(argv[i], "--comm-after-ms") == 0 && i + 1 < argc) {
      comm_after_ms = atol(argv[++i]);
    } else {
      fprintf(stderr, "rl_sysstorm: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (comm) {
    if (comm_after_ms > 0) {
      struct timespec d = {comm_after_ms / 1000,
                           (comm_after_ms % 1000) * 1000000L};
      nanosleep(&d, NULL);
    }
    prctl(PR_SET_NAME, comm, 0, 0, 0);
  }
  char line[64];
  if (wait) {
    printf("%d\n", getpid());
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin)) return 1;
  }
  do {
    run(n, m);
  } while (wait && fgets(line, sizeof(line), stdin));
  return 0;
}
