// Known off-CPU time for the off-CPU breakdown test (offcpu_test.py).
//
// usage: rl_offcpu MODE MS [DIR]
//   spin    busy-loop MS ms (on-CPU)
//   sleep   nanosleep 10 ms at a time for MS ms (sleep)
//   pipe    block in read() on a pipe a second thread writes after
//           sleeping MS ms (other; the writer: sleep)
//   socket  the same on a UNIX stream socket (network)
//   mutex   a second thread blocks on a mutex this one holds while it
//           sleeps MS ms (lock; this one: sleep, then lock in the join)
//   fsync   write 4 KiB + fsync a file in DIR for MS ms (disk)
//   fault   read a 16 MiB file in DIR through a mapping, one byte a page,
//           pages in random order with readahead off, dropped from the
//           page cache before each pass, for MS ms: major faults outside
//           any syscall (memory)
//
// Every blocking call is a region: its off-CPU time is its wall time minus
// the thread's CPU time (CLOCK_THREAD_CPUTIME_ID) and run-queue wait
// (/proc/thread-self/schedstat) over it, as the kernel reports them, added
// to the region's reason. At the
// end prints one JSON line: per reason that known time, and summed over
// threads their wall time (first to last measurement), CPU and run delay
// (schedstat; the main thread's from main(): before exec it was the
// parent's child), and the main thread's own schedstat then: the test adds
// what the main thread did after that from its zombie's schedstat.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { OTHER, LOCK, NETWORK, DISK, SLEEP, MEMORY, REASONS };
// Waits whose reason depends on how the kernel waits (see do_fsync).
enum { FILE_OPS = REASONS, ACCOUNTS };
static const char* kNames[REASONS] = {"other", "lock",  "network",
                                      "disk",  "sleep", "memory"};

struct acct {
  int fd;  // /proc/thread-self/schedstat
  long long t0, wall, cpu, rq;
  long long known[ACCOUNTS];
  long long w0, c0, r0;  // the open region
};

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void schedstat(struct acct* a, long long* cpu, long long* rq) {
  char b[128] = {0};
  if (pread(a->fd, b, sizeof(b) - 1, 0) <= 0 ||
      sscanf(b, "%lld %lld", cpu, rq) != 2) {
    perror("schedstat");
    exit(1);
  }
}

static void begin_thread(struct acct* a) {
  memset(a, 0, sizeof(*a));
  a->fd = open("/proc/thread-self/schedstat", O_RDONLY);
  if (a->fd < 0) {
    perror("open schedstat");
    exit(1);
  }
  a->t0 = now_ns();
}

static void end_thread(struct acct* a) {
  schedstat(a, &a->cpu, &a->rq);
  a->wall = now_ns() - a->t0;
  close(a->fd);
}

// The thread's CPU time up to now: schedstat's lags by the running slice.
static long long thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// run_delay is exact between waits: the kernel adds each as it ends.
static void enter(struct acct* a) {
  long long unused;
  schedstat(a, &unused, &a->r0);
  a->c0 = thread_cpu_ns();
  a->w0 = now_ns();
}

static void leave(struct acct* a, int reason) {
  long long w1 = now_ns(), c1 = thread_cpu_ns(), r1, unused;
  schedstat(a, &unused, &r1);
  a->known[reason] += (w1 - a->w0) - (c1 - a->c0) - (r1 - a->r0);
}

static long long ms;
static int fds[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void nap(struct acct* a, long long total_ns) {
  const struct timespec step = {0, 10000000};
  for (long long end = now_ns() + total_ns; now_ns() < end;) {
    enter(a);
    nanosleep(&step, NULL);
    leave(a, SLEEP);
  }
}

static void* writer(void* arg) {
  struct acct* a = arg;
  begin_thread(a);
  nap(a, ms * 1000000LL);
  if (write(fds[1], "x", 1) != 1) exit(1);
  end_thread(a);
  return NULL;
}

static void* locker(void* arg) {
  struct acct* a = arg;
  begin_thread(a);
  enter(a);
  pthread_mutex_lock(&mu);
  leave(a, LOCK);
  pthread_mutex_unlock(&mu);
  end_thread(a);
  return NULL;
}

static void read_one(struct acct* a, int reason) {
  char c;
  enter(a);
  if (read(fds[0], &c, 1) != 1) exit(1);
  leave(a, reason);
}

static void do_fsync(struct acct* a, const char* dir) {
  char path[4096], buf[4096];
  snprintf(path, sizeof(path), "%s/rl_offcpu.dat", dir);
  // Creating and removing the file may wait for the journal: on I/O (the
  // kernel's in_iowait: disk) or on a journal lock (openat's and unlinkat's
  // own class): accounted apart, as either.
  enter(a);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  leave(a, FILE_OPS);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  memset(buf, 'x', sizeof(buf));
  for (long long end = now_ns() + ms * 1000000LL; now_ns() < end;) {
    enter(a);
    if (write(fd, buf, sizeof(buf)) != sizeof(buf) || fsync(fd)) exit(1);
    leave(a, DISK);
  }
  enter(a);
  close(fd);
  unlink(path);
  leave(a, FILE_OPS);
}

// The file is written and evicted in FILE_OPS regions (open, write and
// fsync may wait on the disk or a journal lock; fadvise only drops clean
// pages); each pass's faults are one MEMORY region: the thread leaves the
// CPU there only in the kernel's page-fault path, in D state.
static void do_fault(struct acct* a, const char* dir) {
  enum { kPages = 4096, kPage = 4096 };
  char path[4096], buf[kPage];
  snprintf(path, sizeof(path), "%s/rl_offcpu_fault.dat", dir);
  enter(a);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  memset(buf, 'x', sizeof(buf));
  for (int i = 0; i < kPages; i++) {
    if (write(fd, buf, sizeof(buf)) != sizeof(buf)) exit(1);
  }
  if (fsync(fd)) exit(1);
  leave(a, FILE_OPS);
  unsigned order[kPages];
  for (unsigned i = 0; i < kPages; i++) order[i] = i;
  srand(1);
  for (unsigned i = kPages - 1; i > 0; i--) {
    unsigned j = (unsigned)rand() % (i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  volatile char sum = 0;
  for (long long end = now_ns() + ms * 1000000LL; now_ns() < end;) {
    enter(a);
    // Unmapped first: the page cache keeps mapped pages.
    if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) exit(1);
    char* p = mmap(NULL, (size_t)kPages * kPage, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED || madvise(p, (size_t)kPages * kPage, MADV_RANDOM)) {
      exit(1);
    }
    leave(a, FILE_OPS);
    enter(a);
    for (int i = 0; i < kPages && now_ns() < end; i++) {
      sum += p[(size_t)order[i] * kPage];
    }
    leave(a, MEMORY);
    enter(a);
    munmap(p, (size_t)kPages * kPage);
    leave(a, FILE_OPS);
  }
  enter(a);
  close(fd);
  unlink(path);
  leave(a, FILE_OPS);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rl_offcpu spin|sleep|pipe|socket|mutex|fsync|"
                    "fault MS [DIR]\n");
    return 2;
  }
  const char* mode = argv[1];
  ms = atoll(argv[2]);
  struct acct a[2];
  int threads = 1;
  pthread_t t;
  long long cpu0, rq0;  // before exec: the parent's child, not this name
  begin_thread(&a[0]);
  schedstat(&a[0], &cpu0, &rq0);
  if (!strcmp(mode, "spin")) {
    volatile unsigned long x = 0;
    for (long long end = now_ns() + ms * 1000000LL; now_ns() < end;) {
      for (int i = 0; i < 1000; i++) x += i;
    }
  } else if (!strcmp(mode, "sleep")) {
    nap(&a[0], ms * 1000000LL);
  } else if (!strcmp(mode, "pipe") || !strcmp(mode, "socket")) {
    const int sock = !strcmp(mode, "socket");
    if ((sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : pipe(fds)) ||
        pthread_create(&t, NULL, writer, &a[1])) {
      return 1;
    }
    threads = 2;
    read_one(&a[0], sock ? NETWORK : OTHER);
    enter(&a[0]);
    pthread_join(t, NULL);
    leave(&a[0], LOCK);
  } else if (!strcmp(mode, "mutex")) {
    pthread_mutex_lock(&mu);
    if (pthread_create(&t, NULL, locker, &a[1])) return 1;
    threads = 2;
    nap(&a[0], ms * 1000000LL);
    pthread_mutex_unlock(&mu);
    enter(&a[0]);
    pthread_join(t, NULL);
    leave(&a[0], LOCK);
  } else if (!strcmp(mode, "fsync") && argc == 4) {
    do_fsync(&a[0], argv[3]);
  } else if (!strcmp(mode, "fault") && argc == 4) {
    do_fault(&a[0], argv[3]);
  } else {
    fprintf(stderr, "rl_offcpu: unknown mode %s\n", mode);
    return 2;
  }
  end_thread(&a[0]);
  long long wall = 0, cpu = 0, rq = 0, known[ACCOUNTS] = {0};
  a[0].cpu -= cpu0;
  a[0].rq -= rq0;
  for (int i = 0; i < threads; i++) {
    wall += a[i].wall;
    cpu += a[i].cpu;
    rq += a[i].rq;
    for (int r = 0; r < ACCOUNTS; r++) known[r] += a[i].known[r];
  }
  printf("{\"threads\": %d, \"wall_ns\": %lld, \"cpu_ns\": %lld, "
         "\"rq_ns\": %lld, \"main_cpu_ns\": %lld, \"main_rq_ns\": %lld, "
         "\"pre_exec_cpu_ns\": %lld, \"known_ns\": {",
         threads, wall, cpu, rq, a[0].cpu + cpu0, a[0].rq + rq0, cpu0);
  for (int r = 0; r < REASONS; r++) {
    printf("%s\"%s\": %lld", r ? ", " : "", kNames[r], known[r]);
  }
  printf("}, \"file_ops_ns\": %lld}\n", known[FILE_OPS]);
  return 0;
}
