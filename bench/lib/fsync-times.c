/* Each fdatasync and fsync of a process, and each fflush_unlocked, stamped in epoch microseconds
 * (start, end, kind: 1 fdatasync, 2 fsync, 3 fflush_unlocked), written to
 * $PARLEY_TIMELINE_DIR/PID.sync (or /tmp/tl) at exit. Loaded with LD_PRELOAD beside
 * bench/lib/timeline.mjs, which says how to build and use it: it tells the time a synced LevelDB
 * write spends in the system call from the time it spends getting there and back. LevelDB 1.20
 * (classic-level's) writes its log through stdio, so the log's write() is inside fflush_unlocked:
 * its start is the moment the worker thread took the write up. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROWS 400000
static long long rows[MAX_ROWS][3];
static int count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (long long)t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void note(long long start, long long end, int kind) {
  pthread_mutex_lock(&lock);
  if (count < MAX_ROWS) {
    rows[count][0] = start;
    rows[count][1] = end;
    rows[count][2] = kind;
    count++;
  }
  pthread_mutex_unlock(&lock);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = dlsym(RTLD_NEXT, "fdatasync");
  long long start = now_us();
  int r = real(fd);
  note(start, now_us(), 1);
  return r;
}

int fflush_unlocked(FILE *f) {
  static int (*real)(FILE *);
  if (!real) real = dlsym(RTLD_NEXT, "fflush_unlocked");
  long long start = now_us();
  int r = real(f);
  note(start, now_us(), 3);
  return r;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = dlsym(RTLD_NEXT, "fsync");
  long long start = now_us();
  int r = real(fd);
  note(start, now_us(), 2);
  return r;
}

__attribute__((destructor)) static void dump(void) {
  const char *dir = getenv("PARLEY_TIMELINE_DIR");
  char file[512];
  snprintf(file, sizeof file, "%s/%d.sync", dir ? dir : "/tmp/tl", getpid());
  FILE *out = fopen(file, "w");
  if (!out) return;
  for (int i = 0; i < count; i++) fprintf(out, "%lld %lld %lld\n", rows[i][0], rows[i][1], rows[i][2]);
  fclose(out);
}
