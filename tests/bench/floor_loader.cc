// Loads tests/bench/floor.bpf.c (empty, or clock reads only) until SIGTERM,
// so the benchmark can measure the floor under redline's own cost.
// usage: redline_floor_bench empty|clock|sched|sock
//   empty, clock: the sys_enter/sys_exit pair; sched: sched_switch only;
//   sock: the sock_send_length/sock_recv_length pair only (kernel >= 6.3).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "floor.skel.h"

int main(int argc, char** argv) {
  const bool sched = argc == 2 && std::strcmp(argv[1], "sched") == 0;
  const bool sock = argc == 2 && std::strcmp(argv[1], "sock") == 0;
  if (argc != 2 || (std::strcmp(argv[1], "empty") != 0 &&
                    std::strcmp(argv[1], "clock") != 0 && !sched && !sock)) {
    std::fprintf(stderr, "usage: %s empty|clock|sched|sock\n", argv[0]);
    return 2;
  }
  floor_bpf* skel = floor_bpf__open();
  if (skel == nullptr) return 1;
  skel->rodata->mode = std::strcmp(argv[1], "clock") == 0 ? 1 : 0;
  bpf_program__set_autoload(skel->progs.floor_enter, !sched && !sock);
  bpf_program__set_autoload(skel->progs.floor_exit, !sched && !sock);
  bpf_program__set_autoload(skel->progs.floor_switch, sched);
  bpf_program__set_autoload(skel->progs.floor_send, sock);
  bpf_program__set_autoload(skel->progs.floor_recv, sock);
  if (floor_bpf__load(skel) != 0 || floor_bpf__attach(skel) != 0) {
    std::fprintf(stderr, "floor: load/attach failed (root?)\n");
    floor_bpf__destroy(skel);
    return 1;
  }
  std::printf("attached\n");
  std::fflush(stdout);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGINT);
  sigprocmask(SIG_BLOCK, &s, nullptr);
  int sig;
  sigwait(&s, &sig);
  floor_bpf__destroy(skel);
  return 0;
}
