// Process churn for integration tests.
//
// usage: rl_spawn exec N P PATH      N runs of PATH (no args), P workers
//        rl_spawn names N P K PREFIX N children named PREFIX<i>, each making
//                                    K getppid() calls, P workers
// Prints "spawned N" when every child has been reaped; exits non-zero if
// any child failed.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_child(const char* mode, long i, long k, const char* arg) {
  // exec: vfork, whose child borrows the parent's memory until it execs.
  // fork copies the page tables, and on a nested-virtualized machine each
  // page fault after it is slow: fork+exec of /bin/true measured 265/s
  // there (with vfork 430/s; other machines 2,000-3,000/s).
  const int exec = strcmp(mode, "exec") == 0;
  pid_t pid = exec ? vfork() : fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (exec) {
      execl(arg, arg, (char*)NULL);
      _exit(127);
    }
    char name[16];
    snprintf(name, sizeof(name), "%s%ld", arg, i);
    prctl(PR_SET_NAME, name, 0, 0, 0);
    for (long j = 0; j < k; j++) syscall(SYS_getppid);
    _exit(0);
  }
  int st;
  if (waitpid(pid, &st, 0) < 0) return -1;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char** argv) {
  const int names = argc == 6 && strcmp(argv[1], "names") == 0;
  const int exec = argc == 5 && strcmp(argv[1], "exec") == 0;
  if (!names && !exec) {
    fprintf(stderr,
            "usage: %s exec N P PATH | names N P K PREFIX\n", argv[0]);
    return 2;
  }
  const long n = atol(argv[2]);
  const long p = atol(argv[3]);
  const long k = names ? atol(argv[4]) : 0;
  const char* arg = names ? argv[5] : argv[4];
  for (long w = 0; w < p; w++) {
    if (fork() == 0) {
      int bad = 0;
      for (long i = w; i < n; i += p) bad |= run_child(argv[1], i, k, arg);
      _exit(bad ? 1 : 0);
    }
  }
  int bad = 0, st;
  while (wait(&st) > 0) bad |= !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  printf("spawned %ld\n", n);
  return bad;
}
