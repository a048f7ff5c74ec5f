// Loads tests/bench/floor.bpf.c (empty programs, clock reads only, or a
// minimal request tracker) until SIGTERM, so the benchmark can measure the
// floor under redline's own cost.
// usage: redline_floor_bench empty|clock|sched|sock|track|ssl LIBSSL
//   empty, clock: the sys_enter/sys_exit pair; sched: sched_switch only;
//   sock: the sock_send_length/sock_recv_length pair only (kernel >= 6.3);
//   track: that pair doing a minimal request tracker's work (floor.bpf.c);
//   ssl LIBSSL: empty uprobes where the tls probe puts its own in that
//   libssl (agent/probes/tls_probe.cc: entry and return of each).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "floor.skel.h"

namespace {

bool Is(const char* arg, const char* mode) {
  return std::strcmp(arg, mode) == 0;
}

// Empty uprobes at the entry and return of each OpenSSL function the tls
// probe hooks; the links are destroyed with the skeleton's programs.
bool AttachSsl(floor_bpf* skel, const char* lib,
               std::vector<bpf_link*>* links) {
  static const char* kFuncs[] = {"SSL_do_handshake", "SSL_read", "SSL_write",
                                 "SSL_read_ex", "SSL_write_ex"};
  for (const char* func : kFuncs) {
    for (bool ret : {false, true}) {
      LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret, .func_name = func);
      bpf_link* l = bpf_program__attach_uprobe_opts(
          ret ? skel->progs.floor_uretprobe : skel->progs.floor_uprobe, -1,
          lib, 0, &o);
      if (l == nullptr) {
        std::fprintf(stderr, "floor: no uprobe at %s in %s\n", func, lib);
        return false;
      }
      links->push_back(l);
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool ok_args =
      (argc == 2 &&
       (Is(argv[1], "empty") || Is(argv[1], "clock") || Is(argv[1], "sched") ||
        Is(argv[1], "sock") || Is(argv[1], "track"))) ||
      (argc == 3 && Is(argv[1], "ssl"));
  if (!ok_args) {
    std::fprintf(stderr, "usage: %s empty|clock|sched|sock|track|ssl LIBSSL\n",
                 argv[0]);
    return 2;
  }
  const bool sched = Is(argv[1], "sched");
  const bool sock = Is(argv[1], "sock") || Is(argv[1], "track");
  const bool ssl = Is(argv[1], "ssl");
  const bool sys = !sched && !sock && !ssl;
  floor_bpf* skel = floor_bpf__open();
  if (skel == nullptr) return 1;
  skel->rodata->mode = Is(argv[1], "clock") ? 1 : Is(argv[1], "track") ? 2 : 0;
  bpf_program__set_autoload(skel->progs.floor_enter, sys);
  bpf_program__set_autoload(skel->progs.floor_exit, sys);
  bpf_program__set_autoload(skel->progs.floor_switch, sched);
  bpf_program__set_autoload(skel->progs.floor_send, sock);
  bpf_program__set_autoload(skel->progs.floor_recv, sock);
  bpf_program__set_autoload(skel->progs.floor_uprobe, ssl);
  bpf_program__set_autoload(skel->progs.floor_uretprobe, ssl);
  std::vector<bpf_link*> links;
  if (floor_bpf__load(skel) != 0 ||
      (ssl ? !AttachSsl(skel, argv[2], &links)
           : floor_bpf__attach(skel) != 0)) {
    std::fprintf(stderr, "floor: load/attach failed (root?)\n");
    for (bpf_link* l : links) bpf_link__destroy(l);
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
  for (bpf_link* l : links) bpf_link__destroy(l);
  floor_bpf__destroy(skel);
  return 0;
}
