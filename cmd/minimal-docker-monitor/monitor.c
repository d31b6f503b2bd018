/*
 * minimal-docker-monitor: the monitor of one detached container
 * (issue 15; measured beside conmon in tests/monitor). Started by the CLI, it
 * detaches (fork, setsid, fork) so that it outlives the CLI, becomes a
 * child subreaper, and runs the OCI runtime:
 *
 *   RUNTIME [--runtime-arg...] create --bundle B --pid-file P ID
 *     with the container's stdout and stderr as pipes that it holds;
 *   RUNTIME start ID (unless --no-start: the CLI starts it later);
 *
 * then tells the CLI (which waits for it) "ok PID" or the runtime's error.
 * It copies the container's stdout and stderr into LOG in Docker's
 * json-file format, rotated by --log-max-size/--log-max-file (LOG,
 * LOG.1, ... LOG.N-1), waits for the container's init (reaping every other
 * child), writes the exit record atomically (temp file + rename) and runs
 * RUNTIME delete ID. A log write that fails (a full disk) loses the record
 * but not the container: the loss is counted, written into the log when a
 * write succeeds again, and put in the exit record.
 *
 * The exit record, one JSON object in EXIT_FILE (read by the CLI's
 * store: internal/store.ExitRecord; keep the two in step):
 *
 *   {"exit_code":N,"oom_killed":BOOL,"started_at":"RFC3339",
 *    "finished_at":"RFC3339","log_lost_bytes":N}
 *
 * exit_code is 128+N for a process killed by signal N, -1 when the init
 * was not the monitor's child to wait for; started_at is "" with
 * --no-start. EXIT_FILE is written once, when the container ends for
 * good (the CLI removes an earlier run's before it starts a monitor).
 *
 * The restart policy (--restart no|on-failure|always|unless-stopped,
 * --restart-max N: on-failure's limit, 0 for none): when the init ends and
 * the policy says so, the monitor runs RUNTIME delete ID, waits (Docker's
 * back-off: 100 ms, doubled at each restart up to a minute, back to
 * 100 ms after a run of 10 s or more), then create and start again on
 * the same bundle, with new pipes to the log. It does not restart when
 * STOP_FILE (--stop-file) exists: stop, kill and rm -f write it before
 * they signal, and it is looked for when the init has ended, during the
 * back-off, and between create and start (then the created container is
 * deleted). unless-stopped is always: no daemon restarts here. A restart
 * that fails is written into the log (stderr) and ends the monitor. Each
 * restart rewrites RESTART_FILE (--restart-file; internal/store.RestartRecord,
 * keep the two in step), atomically, first when the back-off starts:
 *
 *   {"restart_count":N,"restarting":true,"pid":0,"pid_start_time":0,
 *    "started_at":"RFC3339","exit_code":N,"finished_at":"RFC3339"}
 *
 * (the run that ended), then once the new init runs:
 *
 *   {"restart_count":N,"restarting":false,"pid":PID,"pid_start_time":T,
 *    "started_at":"RFC3339","exit_code":N,"finished_at":"RFC3339"}
 *
 * (T: field 22 of /proc/PID/stat; exit_code and finished_at the previous
 * run's). --monitor-pid-file FILE: the monitor's own pid, written before
 * it reports "ok" (conmon's --conmon-pidfile). --exit-command PATH
 * [--exit-command-arg ARG]...: run (not waited for) once the container
 * has ended for good and its runtime state is deleted, as conmon's:
 * minimal-docker's run -d --rm removes the container with it.
 *
 * Built statically by make build (gcc -static -Os), installed beside
 * minimal-docker, which starts it for `run -d` (internal/cli/docker).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNTIME_ARGS 16
#define MAX_EXIT_ARGS 16
#define LINE_MAX_BYTES 16384 /* Docker splits longer lines the same way */

enum policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

struct opts {
	const char *runtime, *id, *bundle, *pid_file, *log, *exit_file;
	const char *runtime_args[MAX_RUNTIME_ARGS];
	int n_runtime_args, no_start, max_file;
	long long max_size;
	/* restart policy, exit command (restart_* functions below) */
	enum policy restart;
	int restart_max, n_exit_args;
	const char *restart_file, *stop_file, *monitor_pid_file;
	const char *exit_args[MAX_EXIT_ARGS + 2]; /* [0]: --exit-command */
};

/* A stream of the container (stdout or stderr): its pipe and the line
 * being gathered. */
struct stream {
	const char *name;
	int fd;
	size_t len;
	char line[LINE_MAX_BYTES];
};

struct logfile {
	const char *path;
	int fd;
	long long size, max_size;
	int max_file;
	long long lost_bytes, lost_since_note;
	int lost_errno;
};

static void fail(int sync, const char *fmt, ...)
{
	char msg[1024];
	int n = snprintf(msg, sizeof msg, "error ");
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof msg - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof msg)
		n = sizeof msg - 1;
	if (sync >= 0 && write(sync, msg, n) < 0)
		_exit(2);
	_exit(1);
}

static void now_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* default_signals undoes, in a child about to exec, what the monitor
 * blocked and ignored: an ignored SIGHUP or SIGINT would stay ignored
 * through the runtime (Go keeps them so) into the container's process. */
static void default_signals(void)
{
	static const int ignored[] = { SIGPIPE, SIGHUP, SIGINT, SIGTERM };
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		signal(ignored[i], SIG_DFL);
}

/* spawn runs RUNTIME [runtime args] argv... with the given stdio and
 * returns its pid (or -1 with errno). */
static pid_t spawn(const struct opts *o, const char *const *argv, int in, int out, int err)
{
	const char *args[MAX_RUNTIME_ARGS + 16];
	int n = 0;

	args[n++] = o->runtime;
	for (int i = 0; i < o->n_runtime_args; i++)
		args[n++] = o->runtime_args[i];
	while (*argv && n < (int)(sizeof args / sizeof args[0]) - 1)
		args[n++] = *argv++;
	args[n] = NULL;

	pid_t pid = fork();
	if (pid != 0)
		return pid;
	default_signals();
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	execv(o->runtime, (char *const *)args);
	_exit(127);
}

/* run_runtime runs a runtime command to its end; its error output goes to
 * errbuf. Returns its wait status, or -1. Other children that end meanwhile
 * stay zombies until the main loop reaps them. */
static int run_runtime(const struct opts *o, const char *const *argv, int out, int err,
		       char *errbuf, size_t errsize)
{
	int p[2] = { -1, -1 }, status;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	errbuf[0] = 0;
	if (devnull < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = spawn(o, argv, devnull, out >= 0 ? out : devnull, err >= 0 ? err : p[1]);
	close(p[1]);
	close(devnull);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	size_t n = 0;
	ssize_t r;
	while (n < errsize - 1 && (r = read(p[0], errbuf + n, errsize - 1 - n)) != 0) {
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			n += r;
	}
	errbuf[n] = 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* json_escape appends s[0:n] to out as the inside of a JSON string;
 * out must hold 6*n bytes. Returns the length written. */
static size_t json_escape(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = c;
		} else if (c == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else if (c == '\r') {
			out[k++] = '\\';
			out[k++] = 'r';
		} else if (c == '\t') {
			out[k++] = '\\';
			out[k++] = 't';
		} else if (c < 0x20) {
			memcpy(out + k, "\\u00", 4);
			out[k + 4] = hex[c >> 4];
			out[k + 5] = hex[c & 15];
			k += 6;
		} else {
			out[k++] = c;
		}
	}
	return k;
}

static int log_open(struct logfile *l)
{
	struct stat st;

	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd < 0)
		return -1;
	l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

/* log_rotate renames LOG.i to LOG.i+1 (the oldest falls off), LOG to
 * LOG.1, and opens a new LOG; with one file it truncates LOG. */
static int log_rotate(struct logfile *l)
{
	char from[4096], to[4096];

	close(l->fd);
	l->fd = -1;
	if (l->max_file <= 1) {
		if (truncate(l->path, 0) < 0 && errno != ENOENT)
			return -1;
		return log_open(l);
	}
	for (int i = l->max_file - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof from, "%s", l->path);
		else
			snprintf(from, sizeof from, "%s.%d", l->path, i - 1);
		snprintf(to, sizeof to, "%s.%d", l->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			return -1;
	}
	return log_open(l);
}

/* log_write writes one record whole or not at all: a short write (a full
 * disk) is cut back so that the file stays valid JSON lines. */
static int log_write(struct logfile *l, const char *rec, size_t n)
{
	if (l->fd < 0 && log_open(l) < 0)
		return -1;
	if (l->max_size > 0 && l->size > 0 && l->size + (long long)n > l->max_size &&
	    log_rotate(l) < 0)
		return -1;
	ssize_t w = write(l->fd, rec, n);
	if (w == (ssize_t)n) {
		l->size += n;
		return 0;
	}
	int e = w < 0 ? errno : ENOSPC;
	if (w > 0 && ftruncate(l->fd, l->size) < 0)
		l->size += w; /* cannot cut it back: the next line starts mid-file */
	errno = e;
	return -1;
}

static void log_record(struct logfile *l, const char *stream, const char *text, size_t n)
{
	static char rec[LINE_MAX_BYTES * 6 + 128];
	char ts[64];
	size_t k;

	now_rfc3339(ts, sizeof ts);
	if (l->lost_since_note > 0) {
		char note[256];
		int m = snprintf(note, sizeof note,
				 "minimal-docker-monitor: %lld bytes of log lost: %s\n",
				 l->lost_since_note, strerror(l->lost_errno));
		k = snprintf(rec, sizeof rec, "{\"log\":\"");
		k += json_escape(rec + k, note, m);
		k += snprintf(rec + k, sizeof rec - k, "\",\"stream\":\"stderr\",\"time\":\"%s\"}\n", ts);
		if (log_write(l, rec, k) == 0)
			l->lost_since_note = 0;
	}
	k = snprintf(rec, sizeof rec, "{\"log\":\"");
	k += json_escape(rec + k, text, n);
	k += snprintf(rec + k, sizeof rec - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
	if (l->lost_since_note > 0 || log_write(l, rec, k) < 0) {
		if (l->lost_since_note == 0)
			l->lost_errno = errno;
		l->lost_bytes += n;
		l->lost_since_note += n;
	}
}

/* stream_read reads what the pipe holds and logs each complete line (and
 * a line that fills the buffer). Returns 1 when it read, 0 at end of
 * file, 2 when the pipe is empty. */
static int stream_read(struct stream *s, struct logfile *l)
{
	ssize_t r = read(s->fd, s->line + s->len, sizeof s->line - s->len);

	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 2 : 0;
	if (r == 0) {
		if (s->len > 0)
			log_record(l, s->name, s->line, s->len);
		s->len = 0;
		return 0;
	}
	s->len += r;
	size_t start = 0;
	for (size_t i = s->len - r; i < s->len; i++) {
		if (s->line[i] == '\n') {
			log_record(l, s->name, s->line + start, i + 1 - start);
			start = i + 1;
		}
	}
	if (start == 0 && s->len == sizeof s->line) { /* a partial record, as Docker's */
		log_record(l, s->name, s->line, s->len);
		start = s->len;
	}
	memmove(s->line, s->line + start, s->len - start);
	s->len -= start;
	return 1;
}

/* find_memory_cgroup finds the file that counts the OOM kills of the
 * container's memory cgroup from its init's /proc/PID/cgroup: v1
 * memory.oom_control, or v2 memory.events on a pure v2 host. */
static void find_memory_cgroup(pid_t pid, char *out, size_t size)
{
	char path[64], line[4096];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!cg)
			continue;
		*cg++ = 0;
		ctrl++;
		if (strcmp(ctrl, "memory") == 0 || strstr(ctrl, "memory,") || strstr(ctrl, ",memory")) {
			snprintf(out, size, "/sys/fs/cgroup/memory%s/memory.oom_control", cg);
			break;
		}
		if (ctrl[0] == 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
			snprintf(out, size, "/sys/fs/cgroup%s/memory.events", cg);
	}
	fclose(f);
}

/* oom_kills reads the oom_kill count of that file; -1 when unknown. */
static long oom_kills(const char *file)
{
	char line[256];
	long n = -1;
	FILE *f;

	if (!file[0] || !(f = fopen(file, "re")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* write_atomic replaces path with buf[0:n]: a temp file, synced, renamed. */
static int write_atomic(const char *path, const char *buf, int n)
{
	char tmp[4096];

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != n || fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

static int write_exit_file(const char *path, int code, int oom, const char *started,
			   const char *finished, const struct logfile *l)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf,
			 "{\"exit_code\":%d,\"oom_killed\":%s,\"started_at\":\"%s\","
			 "\"finished_at\":\"%s\",\"log_lost_bytes\":%lld}\n",
			 code, oom ? "true" : "false", started, finished, l->lost_bytes);
	return write_atomic(path, buf, n);
}

/* The restart policy (see the header): its state across the runs. */
struct restarts {
	int count;               /* restarts so far (Docker's RestartCount) */
	long delay_ms;           /* the last back-off */
	struct timespec began;   /* the current run's start (CLOCK_MONOTONIC) */
};

/* monitor_started records that the first run has started: the monitor's
 * pid file, and the run's start for the back-off. */
static void monitor_started(const struct opts *o, struct restarts *r)
{
	char buf[32];

	clock_gettime(CLOCK_MONOTONIC, &r->began);
	if (o->monitor_pid_file)
		write_atomic(o->monitor_pid_file, buf, snprintf(buf, sizeof buf, "%d\n", getpid()));
}

static int stop_requested(const struct opts *o)
{
	return o->stop_file && access(o->stop_file, F_OK) == 0;
}

/* restart_wanted is Docker's rule: not after a stop; always; on-failure
 * for a non-zero code until --restart-max restarts (0: no limit). */
static int restart_wanted(const struct opts *o, const struct restarts *r, int code)
{
	if (code < 0 || stop_requested(o))
		return 0;
	switch (o->restart) {
	case RESTART_ALWAYS:
		return 1;
	case RESTART_ON_FAILURE:
		return code != 0 && (o->restart_max == 0 || r->count < o->restart_max);
	default:
		return 0;
	}
}

/* pid_start_time is field 22 of /proc/PID/stat (0 when unknown). */
static unsigned long long pid_start_time(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long t = 0;
	int fd;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%llu", &t);
	return t;
}

static void write_restart_file(const struct opts *o, const struct restarts *r, pid_t pid,
			       const char *started, int code, const char *finished)
{
	char buf[512];

	if (!o->restart_file)
		return;
	int n = snprintf(buf, sizeof buf,
			 "{\"restart_count\":%d,\"restarting\":%s,\"pid\":%d,\"pid_start_time\":%llu,"
			 "\"started_at\":\"%s\",\"exit_code\":%d,\"finished_at\":\"%s\"}\n",
			 r->count, pid > 0 ? "false" : "true", pid, pid > 0 ? pid_start_time(pid) : 0,
			 started, code, finished);
	write_atomic(o->restart_file, buf, n);
}

/* backoff waits Docker's delay before a restart, looking for the stop
 * file every 100 ms; it returns 0 when a stop came meanwhile. */
static int backoff(const struct opts *o, struct restarts *r)
{
	struct timespec now, step = { 0, 100 * 1000000L };

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - r->began.tv_sec >= 10)
		r->delay_ms = 0;
	r->delay_ms = r->delay_ms == 0 ? 100 : r->delay_ms * 2;
	if (r->delay_ms > 60000)
		r->delay_ms = 60000;
	for (long waited = 0; waited < r->delay_ms; waited += 100) {
		if (stop_requested(o))
			return 0;
		nanosleep(&step, NULL);
	}
	return !stop_requested(o);
}

/* restart_note writes why a restart failed into the log (stderr). */
static void restart_note(struct logfile *l, const char *what, const char *why)
{
	char msg[2300];
	int n = snprintf(msg, sizeof msg, "minimal-docker-monitor: restart: %s: %s\n", what, why);

	log_record(l, "stderr", msg, n < (int)sizeof msg ? (size_t)n : sizeof msg - 1);
}

/* restart_container applies the restart policy once the init has ended
 * with code at finished: it returns 1 with a new init running (its pid in
 * *pid, its output in new pipes in out and err, started, the memory
 * cgroup and its OOM count renewed), or 0 when the container ends for
 * good (the caller writes the exit record and deletes it). */
static int restart_container(const struct opts *o, struct restarts *r, int code,
			     const char *finished, struct logfile *l, pid_t *pid,
			     struct stream *out, struct stream *err, char *started, size_t started_size,
			     char *memcg, size_t memcg_size, long *oom_before)
{
	const char *del[] = { "delete", "--force", o->id, NULL };
	const char *create[] = { "create", "--bundle", o->bundle, "--pid-file", o->pid_file, o->id, NULL };
	const char *start[] = { "start", o->id, NULL };
	char errbuf[2048];
	int op[2], ep[2], status;

	if (!restart_wanted(o, r, code))
		return 0;
	r->count++;
	write_restart_file(o, r, 0, started, code, finished);
	run_runtime(o, del, -1, -1, errbuf, sizeof errbuf);
	if (!backoff(o, r))
		return 0;
	struct stream *streams[2] = { out, err }; /* drained by the caller */
	for (int i = 0; i < 2; i++) {
		if (streams[i]->fd >= 0)
			close(streams[i]->fd);
		streams[i]->fd = -1;
		streams[i]->len = 0;
	}
	if (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		restart_note(l, "pipes", strerror(errno));
		return 0;
	}
	pid_t cpid = spawn(o, create, 0, op[1], ep[1]);
	close(op[1]);
	close(ep[1]);
	while (cpid > 0 && waitpid(cpid, &status, 0) < 0 && errno == EINTR)
		;
	FILE *pf = NULL;
	*pid = 0;
	if (cpid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    !(pf = fopen(o->pid_file, "re")) || fscanf(pf, "%d", pid) != 1 || *pid <= 0) {
		ssize_t n = read(ep[0], errbuf, sizeof errbuf - 1);
		errbuf[n > 0 ? n : 0] = 0;
		restart_note(l, "runtime create", n > 0 ? errbuf : "failed");
		if (pf)
			fclose(pf);
		close(op[0]);
		close(ep[0]);
		return 0;
	}
	fclose(pf);
	if (stop_requested(o) || run_runtime(o, start, -1, -1, errbuf, sizeof errbuf) != 0) {
		if (!stop_requested(o))
			restart_note(l, "runtime start", errbuf[0] ? errbuf : "failed");
		run_runtime(o, del, -1, -1, errbuf, sizeof errbuf);
		close(op[0]);
		close(ep[0]);
		return 0;
	}
	now_rfc3339(started, started_size);
	clock_gettime(CLOCK_MONOTONIC, &r->began);
	find_memory_cgroup(*pid, memcg, memcg_size);
	*oom_before = oom_kills(memcg);
	write_restart_file(o, r, *pid, started, code, finished);
	fcntl(op[0], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	out->fd = op[0];
	err->fd = ep[0];
	return 1;
}

/* run_exit_command starts --exit-command, not waited for (the monitor
 * ends): it may remove the container, which waits for the monitor. */
static void run_exit_command(const struct opts *o)
{
	if (!o->exit_args[0] || fork() != 0)
		return;
	default_signals();
	execv(o->exit_args[0], (char *const *)o->exit_args);
	_exit(127);
}

static void usage(void)
{
	fprintf(stderr, "usage: minimal-docker-monitor --runtime PATH [--runtime-arg ARG]... "
			"--id ID --bundle DIR --pid-file FILE --log FILE [--log-max-size BYTES] "
			"[--log-max-file N] --exit-file FILE [--no-start] "
			"[--restart no|on-failure|always|unless-stopped] [--restart-max N] "
			"[--restart-file FILE] [--stop-file FILE] [--monitor-pid-file FILE] "
			"[--exit-command PATH [--exit-command-arg ARG]...]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "runtime", 1, 0, 'r' }, { "runtime-arg", 1, 0, 'a' }, { "id", 1, 0, 'i' },
		{ "bundle", 1, 0, 'b' },  { "pid-file", 1, 0, 'p' },    { "log", 1, 0, 'l' },
		{ "log-max-size", 1, 0, 's' }, { "log-max-file", 1, 0, 'f' },
		{ "exit-file", 1, 0, 'e' }, { "no-start", 0, 0, 'n' },
		{ "restart", 1, 0, 'R' }, { "restart-max", 1, 0, 'M' }, { "restart-file", 1, 0, 'F' },
		{ "stop-file", 1, 0, 'S' }, { "monitor-pid-file", 1, 0, 'P' },
		{ "exit-command", 1, 0, 'x' }, { "exit-command-arg", 1, 0, 'X' }, { 0, 0, 0, 0 },
	};
	int c;

	o->max_file = 1;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case 'r': o->runtime = optarg; break;
		case 'a':
			if (o->n_runtime_args == MAX_RUNTIME_ARGS)
				usage();
			o->runtime_args[o->n_runtime_args++] = optarg;
			break;
		case 'i': o->id = optarg; break;
		case 'b': o->bundle = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'l': o->log = optarg; break;
		case 's': o->max_size = atoll(optarg); break;
		case 'f': o->max_file = atoi(optarg); break;
		case 'e': o->exit_file = optarg; break;
		case 'n': o->no_start = 1; break;
		case 'R':
			if (strcmp(optarg, "on-failure") == 0)
				o->restart = RESTART_ON_FAILURE;
			else if (strcmp(optarg, "always") == 0 || strcmp(optarg, "unless-stopped") == 0)
				o->restart = RESTART_ALWAYS;
			else if (strcmp(optarg, "no") != 0)
				usage();
			break;
		case 'M': o->restart_max = atoi(optarg); break;
		case 'F': o->restart_file = optarg; break;
		case 'S': o->stop_file = optarg; break;
		case 'P': o->monitor_pid_file = optarg; break;
		case 'x': o->exit_args[0] = optarg; break;
		case 'X':
			if (o->n_exit_args == MAX_EXIT_ARGS)
				usage();
			o->exit_args[++o->n_exit_args] = optarg;
			break;
		default: usage();
		}
	}
	if (!o->runtime || !o->id || !o->bundle || !o->pid_file || !o->log || !o->exit_file ||
	    o->max_file < 1 || o->max_size < 0 || o->restart_max < 0 || optind != argc ||
	    (o->n_exit_args > 0 && !o->exit_args[0]))
		usage();
}

/* detach forks twice: the CLI's process waits for the monitor's word on
 * the sync pipe ("ok PID" or "error MSG") and exits with it; the monitor,
 * in a session of its own, returns the pipe's write end. */
static int detach(void)
{
	int p[2];
	char msg[1024];

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("minimal-docker-monitor: pipe");
		exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("minimal-docker-monitor: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		waitpid(pid, NULL, 0);
		ssize_t n = 0, r;
		while (n < (ssize_t)sizeof msg - 1 && (r = read(p[0], msg + n, sizeof msg - 1 - n)) != 0)
			if (r > 0)
				n += r;
			else if (errno != EINTR)
				break;
		msg[n] = 0;
		if (strncmp(msg, "ok ", 3) == 0) {
			printf("%s\n", msg + 3);
			exit(0);
		}
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = 0;
		fprintf(stderr, "minimal-docker-monitor: %s\n", n > 6 ? msg + 6 : "monitor died");
		exit(1);
	}
	close(p[0]);
	if (setsid() < 0 || (pid = fork()) < 0)
		fail(p[1], "setsid/fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	return p[1];
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct logfile l = { .fd = -1 };
	static struct stream out = { .name = "stdout" }, err = { .name = "stderr" };
	/* started stays empty with --no-start: the CLI that starts it keeps the time */
	char errbuf[2048], started[64] = "", finished[64], memcg[4096];
	int op[2], ep[2], status, code = -1;
	struct restarts rs = { 0 };

	parse(argc, argv, &o);
	close_range(3, ~0U, 0); /* the CLI's descriptors are not ours to keep open */
	l.path = o.log;
	l.max_size = o.max_size;
	l.max_file = o.max_file;
	int sync = detach();

	/* stdio: /dev/null; the runtime's errors reach us through pipes */
	int devnull = open("/dev/null", O_RDWR);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		fail(sync, "/dev/null: %s", strerror(errno));
	close(devnull);
	if (chdir("/") < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fail(sync, "subreaper: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
		fail(sync, "pipes: %s", strerror(errno));
	if (log_open(&l) < 0)
		fail(sync, "log %s: %s", o.log, strerror(errno));

	/* create: the runtime and the container's init get our pipes */
	const char *create[] = { "create", "--bundle", o.bundle, "--pid-file", o.pid_file, o.id, NULL };
	pid_t cpid = spawn(&o, create, 0, op[1], ep[1]);
	close(op[1]);
	close(ep[1]);
	if (cpid < 0)
		fail(sync, "runtime create: %s", strerror(errno));
	while (waitpid(cpid, &status, 0) < 0)
		if (errno != EINTR)
			fail(sync, "runtime create: wait: %s", strerror(errno));
	fcntl(op[0], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ssize_t n = read(ep[0], errbuf, sizeof errbuf - 1);
		errbuf[n > 0 ? n : 0] = 0;
		fail(sync, "runtime create: %s", n > 0 ? errbuf : "failed");
	}
	FILE *pf = fopen(o.pid_file, "re");
	int pid = 0;
	if (!pf || fscanf(pf, "%d", &pid) != 1 || pid <= 0)
		fail(sync, "pid file %s: no pid", o.pid_file);
	fclose(pf);
	find_memory_cgroup(pid, memcg, sizeof memcg);
	long oom_before = oom_kills(memcg);

	if (!o.no_start) {
		const char *start[] = { "start", o.id, NULL };
		status = run_runtime(&o, start, -1, -1, errbuf, sizeof errbuf);
		if (status != 0) {
			const char *kill[] = { "delete", "--force", o.id, NULL };
			char ignored[256];
			run_runtime(&o, kill, -1, -1, ignored, sizeof ignored);
			fail(sync, "runtime start: %s", errbuf[0] ? errbuf : "failed");
		}
		now_rfc3339(started, sizeof started);
	}
	monitor_started(&o, &rs);
	dprintf(sync, "ok %d", pid);
	close(sync);

	/* copy the logs and reap until the container's init has ended */
	struct stream *streams[2] = { &out, &err };
	out.fd = op[0];
	err.fd = ep[0];
run: /* again after each restart (restart_container) */
	while (code < 0) {
		struct pollfd fds[3] = { { sfd, POLLIN, 0 }, { out.fd, POLLIN, 0 }, { err.fd, POLLIN, 0 } };
		if (poll(fds, 3, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++)
			if (streams[i]->fd >= 0 && (fds[i + 1].revents & (POLLIN | POLLHUP)) &&
			    stream_read(streams[i], &l) == 0) {
				close(streams[i]->fd);
				streams[i]->fd = -1;
			}
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
		}
		pid_t w;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid)
				code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (w < 0 && errno == ECHILD && code < 0)
			break; /* the init is not our child: cannot learn its status */
	}
	now_rfc3339(finished, sizeof finished);
	/* what the init wrote before it ended is in the pipes already */
	for (int i = 0; i < 2; i++) {
		while (streams[i]->fd >= 0 && stream_read(streams[i], &l) == 1)
			;
		if (streams[i]->len > 0)
			log_record(&l, streams[i]->name, streams[i]->line, streams[i]->len);
	}
	long oom_after = oom_kills(memcg);
	int oom = oom_before >= 0 && oom_after > oom_before;
	if (restart_container(&o, &rs, code, finished, &l, &pid, &out, &err, started, sizeof started,
			      memcg, sizeof memcg, &oom_before)) {
		code = -1;
		goto run;
	}

	write_exit_file(o.exit_file, code, oom, started, finished, &l);
	const char *del[] = { "delete", "--force", o.id, NULL };
	run_runtime(&o, del, -1, -1, errbuf, sizeof errbuf);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	run_exit_command(&o);
	return 0;
}
