// rl_gnutls_retry CERT KEY N BODY: an HTTPS server and client over
// GnuTLS in one program (the client a forked child), on 127.0.0.1. The
// client makes N keep-alive GETs, each answered with BODY bytes; the
// server's socket is non-blocking, and its send buffer and the client's
// receive buffer are 4 KiB (the kernel doubles them) against records of
// up to 16 KiB, so gnutls_record_send returns GNUTLS_E_AGAIN, and the
// server retries the way GnuTLS's API allows:
// gnutls_record_send(session, NULL, 0), which sends the record it has
// cached. Prints "ready", waits for a line on stdin (the agent probes
// libgnutls meanwhile), then prints "retry requests=N retries=R" (R: the
// E_AGAIN returns).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what, int err) {
  fprintf(stderr, "rl_gnutls_retry: %s: %s\n", what,
          err ? gnutls_strerror(err) : strerror(errno));
  exit(1);
}

static void fail(const char *what) {
  fprintf(stderr, "rl_gnutls_retry: %s\n", what);
  exit(1);
}

// gnutls_record_recv on a blocking socket, retried while GnuTLS says to
// (it can say E_AGAIN after a TLS 1.3 post-handshake message).
static ssize_t recv_some(gnutls_session_t s, char *buf, size_t size) {
  ssize_t n;
  do {
    n = gnutls_record_recv(s, buf, size);
  } while (n < 0 && !gnutls_error_is_fatal((int)n));
  return n;
}

static void await(int fd, short ev) {
  struct pollfd p = {.fd = fd, .events = ev};
  if (poll(&p, 1, 10000) != 1) fail("poll: nothing for 10 s");
}

static gnutls_session_t session(int fd, unsigned flags,
                                gnutls_certificate_credentials_t cred) {
  gnutls_session_t s;
  int r;
  if ((r = gnutls_init(&s, flags)) < 0 ||
      (r = gnutls_set_default_priority(s)) < 0 ||
      (r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred)) < 0)
    die("session", r);
  gnutls_transport_set_int(s, fd);
  do {
    r = gnutls_handshake(s);
  } while (r < 0 && !gnutls_error_is_fatal(r));
  if (r < 0) die("handshake", r);
  return s;
}

// Reads one response (header, then Content-Length bytes) 4 KiB at a time.
static int read_response(gnutls_session_t s) {
  static char buf[4096];
  char head[1024];
  size_t have = 0;
  long body = -1, got = 0;
  while (body < 0) {
    if (have + 1 >= sizeof(head)) return -1;  // no header end in 1 KiB
    ssize_t n = recv_some(s, head + have, sizeof(head) - 1 - have);
    if (n <= 0) return -1;
    have += n;
    head[have] = 0;
    char *end = strstr(head, "\r\n\r\n");
    const char *cl = strstr(head, "Content-Length: ");
    if (end && cl) {
      body = atol(cl + 16);
      got = (long)(have - (end + 4 - head));
    }
  }
  while (got < body) {
    ssize_t n = recv_some(s, buf, sizeof(buf));
    if (n <= 0) return -1;
    got += n;
  }
  return got == body ? 0 : -1;
}

static void client(struct sockaddr_in *a, int n) {
  gnutls_certificate_credentials_t cred;
  int fd = socket(AF_INET, SOCK_STREAM, 0), small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  if (connect(fd, (struct sockaddr *)a, sizeof(*a))) die("connect", 0);
  gnutls_certificate_allocate_credentials(&cred);  // no verification
  gnutls_session_t s = session(fd, GNUTLS_CLIENT, cred);
  for (int i = 0; i < n; i++) {
    char req[64];
    int len =
        snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\nHost: rl\r\n\r\n", i);
    if (gnutls_record_send(s, req, len) != len) fail("client: send failed");
    if (read_response(s)) fail("client: no whole response");
  }
  gnutls_bye(s, GNUTLS_SHUT_WR);
  _exit(0);
}

// Sends len bytes of buf on a non-blocking session; returns E_AGAINs seen.
static int send_all(int fd, gnutls_session_t s, const char *buf, size_t len) {
  size_t off = 0;
  int retries = 0, retry = 0;
  while (off < len) {
    ssize_t r = retry ? gnutls_record_send(s, NULL, 0)
                      : gnutls_record_send(s, buf + off, len - off);
    if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
      retries++;
      retry = 1;
      await(fd, POLLOUT);
      continue;
    }
    if (r < 0) die("server send", (int)r);
    off += r;
    retry = 0;
  }
  return retries;
}

int main(int argc, char **argv) {
  if (argc != 5 || atoi(argv[3]) < 1 || atol(argv[4]) < 1) {
    fprintf(stderr, "usage: rl_gnutls_retry CERT KEY N BODY\n");
    return 2;
  }
  int n = atoi(argv[3]), small = 4096, retries = 0, status;
  long body = atol(argv[4]);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof(a);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(ls, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));  // inherited
  if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) ||
      getsockname(ls, (struct sockaddr *)&a, &alen))
    die("listen", 0);
  gnutls_certificate_credentials_t cred;
  int r = gnutls_certificate_allocate_credentials(&cred);
  if (r < 0 || (r = gnutls_certificate_set_x509_key_file(
                    cred, argv[1], argv[2], GNUTLS_X509_FMT_PEM)) < 0)
    die("certificate", r);
  char line[16];
  printf("ready\n");
  fflush(stdout);
  if (!fgets(line, sizeof(line), stdin)) return 1;
  pid_t child = fork();
  if (child == 0) client(&a, n);
  int fd = accept(ls, NULL, NULL);
  if (fd < 0) die("accept", 0);
  gnutls_session_t s = session(fd, GNUTLS_SERVER, cred);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  size_t hl;
  char *resp = malloc(body + 128);
  if (!resp) fail("out of memory");
  hl = sprintf(resp, "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\n\r\n", body);
  memset(resp + hl, 'x', body);
  int served = 0;
  for (;;) {
    char req[512];
    ssize_t got = gnutls_record_recv(s, req, sizeof(req));
    if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED) {
      await(fd, POLLIN);
      continue;
    }
    if (got <= 0) break;  // the client's close
    retries += send_all(fd, s, resp, hl + body);
    served++;
  }
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status))
    fail("the client failed");
  printf("retry requests=%d retries=%d\n", served, retries);
  return 0;
}
