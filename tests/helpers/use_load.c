// Scheduler workloads for the USE integration tests. The name of the
// process is the name it was exec'd under (use a symlink), so no rename
// splits its counts.
//
// usage: rl_useload spin MS     busy-loop for MS milliseconds
//        rl_useload sleep N     N nanosleep(500 us) calls: N voluntary
//                               switches (a short timer may expire before
//                               schedule(), e.g. if the vCPU is preempted)
// Prints "ready", waits for a line on stdin, works, prints "done", waits for
// another line, exits.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void wait_line(void) {
  char buf[64];
  if (!fgets(buf, sizeof(buf), stdin)) exit(0);
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall, no switch
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 3 || (strcmp(argv[1], "spin") && strcmp(argv[1], "sleep"))) {
    fprintf(stderr, "usage: rl_useload spin MS | sleep N\n");
    return 2;
  }
  const long long n = atoll(argv[2]);
  printf("ready\n");
  fflush(stdout);
  wait_line();
  if (strcmp(argv[1], "spin") == 0) {
    const long long end = now_ns() + n * 1000000LL;
    volatile unsigned long x = 0;
    while (now_ns() < end) {
      for (int i = 0; i < 1000; i++) x += i;
    }
  } else {
    const struct timespec us = {0, 500000};
    for (long long i = 0; i < n; i++) nanosleep(&us, NULL);
  }
  printf("done\n");
  fflush(stdout);
  wait_line();
  return 0;
}
