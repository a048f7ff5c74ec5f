// TCP workloads for the TCP integration tests (run inside a network
// namespace the test creates). Exec it under a symlink to choose the comm.
//
// usage: rl_tcp serve ADDR PORT BYTES   accept one connection, read BYTES,
//                                       write BYTES back, close
//        rl_tcp send ADDR PORT BYTES    connect, write BYTES, read BYTES
//        rl_tcp churn ADDR PORT N       N connect/close cycles (a listener
//                                       must exist)
//        rl_tcp connect ADDR PORT       one connect; prints ok or the error
//        rl_tcp sink ADDR PORT          accept and close connections forever
//        rl_tcp echo ADDR PORT          accept one connection, echo until EOF
//        rl_tcp ping ADDR PORT N        connect, N rounds of 100 bytes out
//                                       and back 100 ms apart; prints the
//                                       kernel's smoothed RTT (TCP_INFO
//                                       tcpi_rtt, microseconds) after the
//                                       connect and after every round
// ADDR is an IPv4 or IPv6 literal. "serve" prints "listening" once ready.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* tcp_info with tcpi_data_segs_out (glibc lacks it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static socklen_t make_addr(const char* host, int port,
                           struct sockaddr_storage* ss) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in* a4 = (struct sockaddr_in*)ss;
  struct sockaddr_in6* a6 = (struct sockaddr_in6*)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    return sizeof(*a4);
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    return sizeof(*a6);
  }
  fprintf(stderr, "bad address %s\n", host);
  exit(2);
}

static void pump(int fd, long long bytes, int writing) {
  static char buf[65536];
  while (bytes > 0) {
    size_t n = bytes < (long long)sizeof(buf) ? (size_t)bytes : sizeof(buf);
    ssize_t r = writing ? write(fd, buf, n) : read(fd, buf, n);
    if (r <= 0) {
      perror(writing ? "write" : "read");
      exit(1);
    }
    bytes -= r;
  }
}

static void pump_buf(int fd, const char* buf, ssize_t len) {
  while (len > 0) {
    ssize_t w = write(fd, buf, (size_t)len);
    if (w <= 0) {
      perror("write");
      exit(1);
    }
    buf += w;
    len -= w;
  }
}

static void print_rtt(int fd) {
  struct tcp_info ti;
  socklen_t len = sizeof(ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
    printf("RTT_US %u\n", ti.tcpi_rtt);
  }
}

// With RL_TCP_INFO set, prints the socket's data segments sent and
// retransmitted segments (TCP_INFO) to stdout: the SLI test's oracle.
static void print_segs(int fd, const char* when) {
  struct tcp_info ti;
  socklen_t len = sizeof(ti);
  if (!getenv("RL_TCP_INFO")) return;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
    printf("SEGS %s %u %u\n", when, ti.tcpi_data_segs_out,
           ti.tcpi_total_retrans);
    fflush(stdout);
  }
}

static int dial(const char* host, int port) {
  struct sockaddr_storage ss;
  socklen_t len = make_addr(host, port, &ss);
  int fd = socket(ss.ss_family, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&ss, len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: rl_tcp serve|send|churn|connect ADDR PORT [N]\n");
    return 2;
  }
  const char* mode = argv[1];
  const char* host = argv[2];
  const int port = atoi(argv[3]);
  const long long n = argc > 4 ? atoll(argv[4]) : 0;
  if (strcmp(mode, "serve") == 0 || strcmp(mode, "sink") == 0 ||
      strcmp(mode, "echo") == 0) {
    struct sockaddr_storage ss;
    socklen_t len = make_addr(host, port, &ss);
    int ls = socket(ss.ss_family, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(ls, (struct sockaddr*)&ss, len) || listen(ls, 1024)) {
      perror("listen");
      return 1;
    }
    printf("listening\n");
    fflush(stdout);
    if (strcmp(mode, "sink") == 0) {
      for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c >= 0) close(c);
      }
    }
    int c = accept(ls, NULL, NULL);
    if (c < 0) return 1;
    if (strcmp(mode, "echo") == 0) {
      char buf[4096];
      ssize_t r;
      while ((r = read(c, buf, sizeof(buf))) > 0) pump_buf(c, buf, r);
      close(c);
      return 0;
    }
    print_segs(c, "start");
    pump(c, n, 0);
    pump(c, n, 1);
    shutdown(c, SHUT_WR);
    char b;
    while (read(c, &b, 1) > 0) {
    }
    print_segs(c, "end");
    close(c);
    close(ls);
    return 0;
  }
  if (strcmp(mode, "send") == 0) {
    int fd = dial(host, port);
    if (fd < 0) {
      perror("connect");
      return 1;
    }
    print_segs(fd, "start");
    pump(fd, n, 1);
    pump(fd, n, 0);
    print_segs(fd, "end");
    close(fd);
    return 0;
  }
  if (strcmp(mode, "churn") == 0) {
    for (long long i = 0; i < n; i++) {
      int fd = dial(host, port);
      if (fd < 0) {
        perror("connect");
        return 1;
      }
      close(fd);
    }
    return 0;
  }
  if (strcmp(mode, "ping") == 0) {
    int fd = dial(host, port);
    if (fd < 0) {
      perror("connect");
      return 1;
    }
    print_rtt(fd);
    char buf[100] = {0};
    const struct timespec gap = {0, 100 * 1000 * 1000};
    for (long long i = 0; i < n; i++) {
      pump_buf(fd, buf, sizeof(buf));
      pump(fd, sizeof(buf), 0);
      print_rtt(fd);
      nanosleep(&gap, NULL);
    }
    close(fd);
    return 0;
  }
  if (strcmp(mode, "connect") == 0) {
    int fd = dial(host, port);
    printf("%s\n", fd < 0 ? strerror(errno) : "ok");
    if (fd >= 0) close(fd);
    return 0;
  }
  return 2;
}
