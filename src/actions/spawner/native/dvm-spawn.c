/*
 * dvm-spawn: starts commands for dvm with posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK) + exec), which does not
 * copy the caller's page tables the way Node's fork() does. Built at `npm install` when a C compiler is there
 * (scripts/build-native.mjs); without it dvm uses its Node helpers (spawn-helper.mjs). The protocol is private to
 * dvm (see native-helper.ts), over stdin and stdout pipes.
 *
 * In (frames: a 4-byte little-endian length, then NUL-terminated fields):
 *   E id n k=v*n                   keep an environment under id
 *   F id                           forget environment id
 *   S id env cwd log argc argv*argc [n k=v*n]
 *                                  start argv in cwd, in its own session, stdin /dev/null, stdout and stderr
 *                                  appended to log; env is a kept id, or 0 for the environment that follows
 * Out (lines):
 *   R version source               once, when ready (source: the hash of this file it was built from)
 *   Q id pid                       the command started (at once: if this helper dies before P or X, dvm still
 *                                  knows the group to stop)
 *   P id pid                       the command runs (only when it runs longer than PID_DELAY_MS)
 *   X id pid code signal           it ended: code, or -1 and the signal's number
 *   D id ERRNO message             it could not start (ELOGOPEN: its log file could not be opened)
 * End of input (dvm went away) ends this helper; the commands it started run on in their sessions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL_VERSION 2
#ifndef DVM_SPAWN_SOURCE
#define DVM_SPAWN_SOURCE "unknown"
#endif
#define PID_DELAY_MS 5
#define MAX_FRAME (64u * 1024u * 1024u)

struct env {
  long id;
  char *block;
  char **vars;
};

struct child {
  long id;
  pid_t pid;
  long long started_ms;
  int told;
};

static struct env *envs;
static size_t env_count, env_cap;
static struct child *children;
static size_t child_count, child_cap;
static int wake_pipe[2];

static char *out;
static size_t out_len, out_cap;

static void die(const char *what) {
  fprintf(stderr, "dvm-spawn: %s: %s\n", what, strerror(errno));
  exit(70);
}

static void *grow(void *p, size_t *cap, size_t need, size_t item) {
  if (need <= *cap) return p;
  size_t next = *cap ? *cap * 2 : 16;
  while (next < need) next *= 2;
  void *q = realloc(p, next * item);
  if (!q) die("out of memory");
  *cap = next;
  return q;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + out_len, out_cap - out_len, fmt, ap);
    va_end(ap);
    if (n < 0) die("format");
    if ((size_t)n < out_cap - out_len) {
      out_len += (size_t)n;
      return;
    }
    out = grow(out, &out_cap, out_len + (size_t)n + 1, 1);
  }
}

static void flush_out(void) {
  size_t done = 0;
  while (done < out_len) {
    ssize_t n = write(STDOUT_FILENO, out + done, out_len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) exit(0); /* dvm went away */
    done += (size_t)n;
  }
  out_len = 0;
}

static const char *errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    case EPERM: return "EPERM";
    case ENOEXEC: return "ENOEXEC";
    case E2BIG: return "E2BIG";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ETXTBSY: return "ETXTBSY";
    case EISDIR: return "EISDIR";
    case EROFS: return "EROFS";
    case ENOSPC: return "ENOSPC";
    case EIO: return "EIO";
    default: return "EINVAL";
  }
}

/* A D line: the code, then the message on one line (newlines become spaces). */
static void emit_failure_as(long id, const char *code, const char *what, const char *separator, int e) {
  char message[512];
  snprintf(message, sizeof message, "%s%s%s", what, separator, strerror(e));
  for (char *c = message; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
  emit("D %ld %s %s\n", id, code, message);
}

static void emit_failure(long id, int e, const char *what) {
  emit_failure_as(id, errno_name(e), what, " ", e);
}

/* Reads the NUL-terminated field at *at (before end); NULL when the frame is malformed. */
static char *field(char **at, char *end) {
  char *start = *at;
  char *nul = memchr(start, '\0', (size_t)(end - start));
  if (!nul) return NULL;
  *at = nul + 1;
  return start;
}

static int number(char **at, char *end, long *value) {
  char *text = field(at, end);
  if (!text || !*text) return 0;
  char *rest;
  errno = 0;
  *value = strtol(text, &rest, 10);
  return errno == 0 && *rest == '\0';
}

/* n fields of k=v into a NULL-terminated array that points into the frame. */
static char **vars_of(char **at, char *end, long n) {
  if (n < 0 || n > 1000000) return NULL;
  char **vars = calloc((size_t)n + 1, sizeof *vars);
  if (!vars) die("out of memory");
  for (long i = 0; i < n; i++) {
    vars[i] = field(at, end);
    if (!vars[i]) {
      free(vars);
      return NULL;
    }
  }
  return vars;
}

static struct env *find_env(long id) {
  for (size_t i = 0; i < env_count; i++)
    if (envs[i].id == id) return &envs[i];
  return NULL;
}

static void forget_env(long id) {
  for (size_t i = 0; i < env_count; i++) {
    if (envs[i].id != id) continue;
    free(envs[i].block);
    free(envs[i].vars);
    envs[i] = envs[--env_count];
    return;
  }
}

/* PATH of the command's own environment (as execvp in the child would see it). */
static const char *path_of(char **vars) {
  for (char **v = vars; *v; v++)
    if (strncmp(*v, "PATH=", 5) == 0) return *v + 5;
  return "/usr/local/bin:/usr/bin:/bin";
}

/* Finds the program as execvp would: 0 and the path in found, or an errno. */
static int resolve(const char *program, const char *cwd, char **vars, char *found, size_t size) {
  if (strchr(program, '/')) {
    /* Cut short, the path would name another file (a prefix of it): too long, as execve says. */
    int n = program[0] == '/' ? snprintf(found, size, "%s", program) : snprintf(found, size, "%s/%s", cwd, program);
    return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
  }
  if (strlen(program) > NAME_MAX) return ENAMETOOLONG;
  int seen = ENOENT;
  const char *dirs = path_of(vars);
  for (;;) {
    const char *colon = strchr(dirs, ':');
    size_t len = colon ? (size_t)(colon - dirs) : strlen(dirs);
    int n;
    if (len == 0) n = snprintf(found, size, "%s/%s", cwd, program);
    else if (dirs[0] == '/') n = snprintf(found, size, "%.*s/%s", (int)len, dirs, program);
    else n = snprintf(found, size, "%s/%.*s/%s", cwd, (int)len, dirs, program);
    if (n > 0 && (size_t)n < size) {
      /* As execvp: a file that cannot be run (a directory, no x bit) or a directory that may not be searched is
         EACCES unless a later one can be run. */
      struct stat st;
      if (stat(found, &st) == 0) {
        if (S_ISREG(st.st_mode) && access(found, X_OK) == 0) return 0;
        seen = EACCES;
      } else if (errno == EACCES) {
        seen = EACCES;
      }
    }
    if (!colon) return seen;
    dirs = colon + 1;
  }
}

static void start(long id, long env_id, const char *cwd, const char *log, char **argv, char **inline_vars) {
  char **vars = inline_vars;
  if (!vars) {
    struct env *kept = find_env(env_id);
    if (!kept) {
      emit_failure(id, EINVAL, "unknown environment");
      return;
    }
    vars = kept->vars;
  }
  char path[PATH_MAX];
  int found = resolve(argv[0], cwd, vars, path, sizeof path);
  if (found != 0) {
    emit_failure(id, found, argv[0]);
    return;
  }
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    /* Its own code: the log's ENOENT is not a missing program. */
    emit_failure_as(id, "ELOGOPEN", log, ": ", errno);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fd, STDERR_FILENO);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid;
  int failed = posix_spawn(&pid, path, &actions, &attr, argv, vars);
  if (failed == ENOEXEC) {
    /* As execvp: an executable file without #! is a script for /bin/sh. */
    size_t argc = 0;
    while (argv[argc]) argc++;
    char **script = calloc(argc + 2, sizeof *script);
    if (!script) die("out of memory");
    script[0] = "/bin/sh";
    script[1] = path;
    for (size_t i = 1; i < argc; i++) script[i + 1] = argv[i];
    failed = posix_spawn(&pid, "/bin/sh", &actions, &attr, script, vars);
    free(script);
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fd);
  if (failed) {
    emit_failure(id, failed, argv[0]);
    return;
  }
  children = grow(children, &child_cap, child_count + 1, sizeof *children);
  children[child_count++] = (struct child){id, pid, now_ms(), 0};
  /* Told before the next start (of a burst read in one go): killed later, this helper leaves no command unknown. */
  emit("Q %ld %d\n", id, pid);
  flush_out();
}

/* One frame; 0 when it is malformed (dvm and this helper disagree: stop). */
static int handle(char *frame, uint32_t size) {
  char *at = frame, *end = frame + size;
  char *kind = field(&at, end);
  long id;
  if (!kind || !number(&at, end, &id)) return 0;
  if (strcmp(kind, "E") == 0) {
    long n;
    if (!number(&at, end, &n)) return 0;
    char *block = malloc(size);
    if (!block) die("out of memory");
    memcpy(block, frame, size);
    char *copy_at = block + (at - frame);
    char **vars = vars_of(&copy_at, block + size, n);
    if (!vars) {
      free(block);
      return 0;
    }
    forget_env(id);
    envs = grow(envs, &env_cap, env_count + 1, sizeof *envs);
    envs[env_count++] = (struct env){id, block, vars};
    return 1;
  }
  if (strcmp(kind, "F") == 0) {
    forget_env(id);
    return 1;
  }
  if (strcmp(kind, "S") != 0) return 0;
  long env_id, argc;
  char *cwd, *log;
  if (!number(&at, end, &env_id) || !(cwd = field(&at, end)) || !(log = field(&at, end)) ||
      !number(&at, end, &argc) || argc < 1)
    return 0;
  char **argv = vars_of(&at, end, argc);
  if (!argv) return 0;
  char **inline_vars = NULL;
  if (env_id == 0) {
    long n;
    if (!number(&at, end, &n) || !(inline_vars = vars_of(&at, end, n))) {
      free(argv);
      return 0;
    }
  }
  start(id, env_id, cwd, log, argv, inline_vars);
  free(argv);
  free(inline_vars);
  return 1;
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  ssize_t ignored = write(wake_pipe[1], "c", 1);
  (void)ignored;
  errno = saved;
}

static void reap(void) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (size_t i = 0; i < child_count; i++) {
      if (children[i].pid != pid) continue;
      if (WIFSIGNALED(status)) emit("X %ld %d -1 %d\n", children[i].id, pid, WTERMSIG(status));
      else emit("X %ld %d %d 0\n", children[i].id, pid, WEXITSTATUS(status));
      children[i] = children[--child_count];
      break;
    }
  }
}

/* Tells the pids of commands that outlived PID_DELAY_MS; returns the poll timeout until the next one is due. */
static int tell_pids(void) {
  long long now = now_ms();
  int timeout = -1;
  for (size_t i = 0; i < child_count; i++) {
    if (children[i].told) continue;
    long long due = children[i].started_ms + PID_DELAY_MS;
    if (due <= now) {
      emit("P %ld %d\n", children[i].id, children[i].pid);
      children[i].told = 1;
    } else if (timeout < 0 || due - now < timeout) {
      timeout = (int)(due - now);
    }
  }
  return timeout;
}

/* Descriptors dvm's process left open without close-on-exec do not reach the commands (as Python's close_fds). */
static void close_inherited(void) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return;
#endif
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++) close((int)fd);
}

int main(void) {
  close_inherited();
  out = grow(NULL, &out_cap, 4096, 1);
  if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0) die("pipe");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGCHLD, &sa, NULL) < 0) die("sigaction");
  signal(SIGPIPE, SIG_IGN);
  /* Ctrl-C, Ctrl-\, a hang-up and SIGTERM (`timeout`, CI runners) reach dvm's whole process group: dvm decides what
     happens to the commands (and when dvm goes, so does this helper, at the end of its input; dvm stops it with
     SIGKILL). The commands get default handling back. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  fcntl(STDIN_FILENO, F_SETFD, FD_CLOEXEC);
  fcntl(STDOUT_FILENO, F_SETFD, FD_CLOEXEC);

  size_t in_cap = 1 << 16, in_len = 0;
  char *in = malloc(in_cap);
  if (!in) die("out of memory");
  emit("R %d %s\n", PROTOCOL_VERSION, DVM_SPAWN_SOURCE);
  flush_out();
  for (;;) {
    int timeout = tell_pids();
    flush_out();
    struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, timeout) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(wake_pipe[0], drain, sizeof drain) > 0) {}
      reap();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (in_cap - in_len < 4096) in = grow(in, &in_cap, in_len + 4096, 1);
      ssize_t n = read(STDIN_FILENO, in + in_len, in_cap - in_len);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) break;
      in_len += (size_t)n;
      size_t at = 0;
      while (in_len - at >= 4) {
        unsigned char *h = (unsigned char *)in + at;
        uint32_t size = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
        if (size > MAX_FRAME) {
          fprintf(stderr, "dvm-spawn: a message of %u bytes is too large\n", size);
          return 65;
        }
        if (in_len - at - 4 < size) {
          in = grow(in, &in_cap, at + 4 + size, 1);
          break;
        }
        if (!handle(in + at + 4, size)) {
          fprintf(stderr, "dvm-spawn: a malformed message\n");
          return 65;
        }
        at += 4 + size;
      }
      memmove(in, in + at, in_len - at);
      in_len -= at;
    }
  }
  flush_out();
  return 0;
}
