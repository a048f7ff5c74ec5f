// HTTP/1.1 over TCP with sendmmsg/recvmmsg only, both sides, for
// http_test's mmsg phase.
//
// usage: rl_mmsg PORT N BATCH
// Forks a server (its comm rl_mmsg_srv) listening on 127.0.0.1:PORT; the
// client (rl_mmsg_cli) sends N GET requests over one connection, BATCH per
// sendmmsg (one request per message, each in two iovec segments), and
// reads the responses with recvmmsg: 4 messages of 24 bytes, the first
// blocking and the rest MSG_DONTWAIT (MSG_WAITFORONE), so a response
// spans messages and calls, and most calls end on EAGAIN. The server reads
// the same way and answers each batch with one sendmmsg (one response per
// message). Both print what they counted ("client 200=N", "server N");
// exit 0 when both saw N. Every request and response is two messages
// long, so each starts a message of its reader's.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kSlots = 4, kSlotLen = 24, kMaxBatch = 16 };

// Requests and responses are 48 bytes, two messages of a reader's: each
// starts a message (a read that starts mid-way through one and holds the
// next is pipelining's limit, README, not recvmmsg's).
static const char kReqLine[] = "GET /mmsg-0123456789abcdef HTTP/1.1\r\n";
static const char kReqHost[] = "Host: x\r\n\r\n";
_Static_assert(sizeof(kReqLine) + sizeof(kReqHost) - 2 == 2 * kSlotLen,
               "a request is two messages");
static const char kResp[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nA: b\r\n\r\nok!\n";
_Static_assert(sizeof(kResp) - 1 == 2 * kSlotLen, "a response is two messages");

// recvmmsg into kSlots slots; appends what came to buf; 0 at EOF.
static ssize_t read_some(int fd, char* buf, size_t* have, size_t cap) {
  char slots[kSlots][kSlotLen];
  struct iovec iov[kSlots];
  struct mmsghdr msgs[kSlots];
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < kSlots; i++) {
    iov[i] = (struct iovec){slots[i], kSlotLen};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n = recvmmsg(fd, msgs, kSlots, MSG_WAITFORONE, NULL);
  if (n < 0) return -1;
  ssize_t total = 0;
  for (int i = 0; i < n; i++) {
    size_t len = msgs[i].msg_len;
    if (len == 0) return total;  // EOF
    if (*have + len > cap) return -1;
    memcpy(buf + *have, slots[i], len);
    *have += len;
    total += (ssize_t)len;
  }
  return total;
}

// Drops the first complete message ending in `end` from buf; 1 if one was.
static int take(char* buf, size_t* have, const char* end) {
  char* p = memmem(buf, *have, end, strlen(end));
  if (!p) return 0;
  size_t used = (size_t)(p - buf) + strlen(end);
  memmove(buf, buf + used, *have - used);
  *have -= used;
  return 1;
}

// Sends k copies of a message (segments a, b; b may be NULL) in one
// sendmmsg.
static int send_batch(int fd, int k, const char* a, const char* b) {
  struct iovec iov[kMaxBatch][2];
  struct mmsghdr msgs[kMaxBatch];
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < k; i++) {
    iov[i][0] = (struct iovec){(void*)a, strlen(a)};
    iov[i][1] = (struct iovec){(void*)(b ? b : ""), b ? strlen(b) : 0};
    msgs[i].msg_hdr.msg_iov = iov[i];
    msgs[i].msg_hdr.msg_iovlen = b ? 2 : 1;
  }
  return sendmmsg(fd, msgs, k, 0) == k ? 0 : -1;
}

static int serve(int lfd) {
  prctl(PR_SET_NAME, "rl_mmsg_srv");
  int fd = accept(lfd, NULL, NULL);
  char buf[4096];
  size_t have = 0;
  long served = 0;
  for (;;) {
    ssize_t r = read_some(fd, buf, &have, sizeof(buf));
    if (r <= 0) break;
    int k = 0;
    while (k < kMaxBatch && take(buf, &have, "\r\n\r\n")) k++;
    if (k && send_batch(fd, k, kResp, NULL)) return 1;
    served += k;
  }
  printf("server %ld\n", served);
  return 0;
}

static long client(int port, long n, int batch) {
  prctl(PR_SET_NAME, "rl_mmsg_cli");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&a, sizeof(a))) return -1;
  char buf[4096];
  size_t have = 0;
  long ok = 0;
  for (long sent = 0; sent < n;) {
    int k = n - sent < batch ? (int)(n - sent) : batch;
    if (send_batch(fd, k, kReqLine, kReqHost)) return -1;
    sent += k;
    // Each response is its header block and its body.
    for (int got = 0; got < k;) {
      if (take(buf, &have, "\r\n\r\nok!\n")) {
        got++, ok++;
        continue;
      }
      if (read_some(fd, buf, &have, sizeof(buf)) <= 0) return -1;
    }
  }
  close(fd);
  return ok;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT N BATCH\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]), batch = atoi(argv[3]);
  long n = atol(argv[2]);
  if (batch < 1 || batch > kMaxBatch) batch = kMaxBatch;
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&a, sizeof(a)) || listen(lfd, 1)) {
    perror("rl_mmsg: bind");
    return 1;
  }
  fflush(stdout);
  pid_t srv = fork();
  if (srv == 0) return serve(lfd);
  close(lfd);
  long ok = client(port, n, batch);
  printf("client 200=%ld\n", ok);
  fflush(stdout);
  int st = 0;
  waitpid(srv, &st, 0);
  return ok == n && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
