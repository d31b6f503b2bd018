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
 * Stdin and the pty: without --stdin the container's stdin is /dev/null;
 * with it, a pipe whose write end the monitor holds (input comes from
 * attached clients). With --tty (process.terminal in the bundle) the
 * monitor passes --console-socket DIR/console.sock to the runtime's create
 * and receives the pty master over SCM_RIGHTS; the pty's output goes to
 * the log as stream "stdout", as Docker's does.
 *
 * The attach socket (--attach-socket PATH): a SOCK_SEQPACKET unix socket
 * that any number of clients connect to, for as long as the container
 * runs. Paths longer than sun_path's 108 bytes are bound (and must be
 * connected) through /proc/self/fd/N/NAME, N an O_PATH descriptor of the
 * socket's directory, as conmon does. Each packet starts with a type byte:
 *
 *   monitor -> client: 1 DATA (stdout, or the pty's output), 2 DATA
 *     (stderr); DATA up to 16 KiB, from the moment the client connected
 *     (no replay: the log has the past).
 *   client -> monitor: 0 DATA  input for the container's stdin (dropped
 *     without --stdin); 1 "ROWS COLS" (decimal text) the pty's window size
 *     (TIOCSWINSZ: the container's foreground process gets SIGWINCH);
 *     2  close the container's stdin (Docker's StdinOnce; not with a pty).
 *     A packet holds at most 8 KiB.
 *
 * When the container ends the monitor sends what is left of its output,
 * writes the exit record, then closes every client's connection: the
 * client reads the exit code from the store. A client never blocks or
 * kills the monitor: output is sent without waiting (MSG_DONTWAIT), and a
 * client whose socket buffer is full loses that packet (a slow client may
 * lose output rather than stall the container); a client that went away
 * is dropped at its first error. Input the container does not take at once
 * is kept (one packet's worth) and no client is read until it is taken:
 * typing into a container that does not read stalls the clients' input,
 * never the monitor.
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
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
	const char *attach_dir, *attach_name; /* --attach-socket, split; or NULL */
	int stdin_open, tty;       /* --stdin, --tty */
};

/* A stream of the container (stdout or stderr): its pipe and the line
 * being gathered. */
struct stream {
	const char *name;
	int id; /* the attach socket's type byte for it */
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

/* ---- stdin, the pty and the attach socket (see the header comment) ---- */

#define ATTACH_MSG_MAX 8192

struct attach {
	int listen_fd;  /* the attach socket; -1 without one */
	int console_fd; /* the console socket, until the master comes; -1 */
	int dir_fd;     /* O_PATH of the sockets' directory; -1 */
	const char *sock_name;
	int in_fd;      /* the container's stdin (pipe or pty master); -1 */
	int in_pipe;    /* the container's end of the stdin pipe until create; -1 */
	int tty_fd;     /* the pty master, for the window size; -1 */
	int *clients;
	int n_clients, cap_clients;
	size_t pending; /* input the container has not taken yet */
	char *in_buf;   /* ATTACH_MSG_MAX+1: a client's packet (and a 0); then the input pending */
	char console_path[64];
};

/* sock_at names the socket NAME of the directory a->dir_fd, short enough
 * for sun_path whatever the directory's path. */
static int sock_at(const struct attach *a, const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", a->dir_fd, name);
	return n < (int)sizeof sa->sun_path ? 0 : -1;
}

/* listen_at binds a new socket of the type to NAME in the directory. */
static int listen_at(const struct attach *a, const char *name, int type)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || sock_at(a, name, &sa) < 0)
		goto fail;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* attach_listen opens the attach socket (--attach-socket; nothing without
 * it). Returns -1 with errno. */
static int attach_listen(struct attach *a, const struct opts *o)
{
	if (!o->attach_dir)
		return 0;
	a->sock_name = o->attach_name;
	a->dir_fd = open(o->attach_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a->dir_fd < 0 || (a->listen_fd = listen_at(a, a->sock_name, SOCK_SEQPACKET)) < 0)
		return -1;
	return 0;
}

/* attach_stdio makes what one create of the container needs (again at
 * each restart, an earlier run's closed first): the stdin pipe (--stdin,
 * without --tty) and the console socket (--tty). The runtime's create then
 * takes *stdin_fd as the container's stdin (0, /dev/null, without a pipe)
 * and *console as --console-socket (NULL without --tty). Returns -1 with
 * errno. */
static int attach_stdio(struct attach *a, const struct opts *o, int *stdin_fd, const char **console)
{
	*console = NULL;
	*stdin_fd = 0;
	if (a->in_fd >= 0 && a->in_fd != a->tty_fd)
		close(a->in_fd);
	if (a->tty_fd >= 0)
		close(a->tty_fd);
	a->in_fd = a->tty_fd = -1;
	a->pending = 0;
	if (o->stdin_open && !o->tty) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		a->in_pipe = *stdin_fd = p[0];
		a->in_fd = p[1];
		fcntl(a->in_fd, F_SETFL, O_NONBLOCK);
	}
	if (o->tty) {
		if (a->dir_fd < 0) {
			errno = EINVAL; /* --tty needs --attach-socket's directory */
			return -1;
		}
		if ((a->console_fd = listen_at(a, "console.sock", SOCK_STREAM)) < 0)
			return -1;
		/* the runtime connects through our descriptor of the directory */
		snprintf(a->console_path, sizeof a->console_path, "/proc/%d/fd/%d/console.sock",
			 getpid(), a->dir_fd);
		*console = a->console_path;
	}
	return 0;
}

/* create_args is the runtime's create command (argv holds 10): with
 * --console-socket when the container has a pty. */
static void create_args(const struct opts *o, const char *console, const char **argv)
{
	int n = 0;

	argv[n++] = "create";
	if (console) {
		argv[n++] = "--console-socket";
		argv[n++] = console;
	}
	const char *rest[] = { "--bundle", o->bundle, "--pid-file", o->pid_file, o->id, NULL };
	memcpy(argv + n, rest, sizeof rest);
}

/* attach_created runs once create has succeeded: the container holds its
 * end of the stdin pipe, and the runtime has sent the pty master to the
 * console socket (--tty). Returns the master (-1 without --tty or on
 * failure, errno set). */
static int attach_created(struct attach *a, const struct opts *o)
{
	if (a->in_pipe >= 0) {
		close(a->in_pipe);
		a->in_pipe = -1;
	}
	if (a->console_fd < 0)
		return -1;
	struct sockaddr_un sa;
	if (sock_at(a, "console.sock", &sa) == 0)
		unlink(sa.sun_path);
	int conn = accept4(a->console_fd, NULL, NULL, SOCK_CLOEXEC);
	close(a->console_fd);
	a->console_fd = -1;
	if (conn < 0)
		return -1;
	char name[256], cbuf[CMSG_SPACE(sizeof(int))]; /* a longer name is cut: unused */
	struct iovec iov = { name, sizeof name };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	int master = -1;
	struct timeval tv = { 30, 0 }; /* the runtime sent it before it exited */
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (recvmsg(conn, &m, MSG_CMSG_CLOEXEC) > 0) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&master, CMSG_DATA(c), sizeof master);
	}
	close(conn);
	if (master < 0) {
		errno = EPROTO;
		return -1;
	}
	fcntl(master, F_SETFL, O_NONBLOCK);
	a->tty_fd = fcntl(master, F_DUPFD_CLOEXEC, 0);
	if (o->stdin_open)
		a->in_fd = a->tty_fd;
	return master;
}

static void attach_drop(struct attach *a, int i)
{
	close(a->clients[i]);
	a->clients[i] = a->clients[--a->n_clients];
}

/* attach_broadcast sends a stream's bytes to every client, without
 * waiting: a full socket loses the packet, a broken one is dropped. */
static void attach_broadcast(struct attach *a, int id, const char *data, size_t n)
{
	unsigned char type = id;
	struct iovec iov[2] = { { &type, 1 }, { (void *)data, n } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	for (int i = 0; i < a->n_clients; i++)
		if (sendmsg(a->clients[i], &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			attach_drop(a, i--);
}

/* attach_input writes what is pending to the container's stdin, as much
 * as it takes now. */
static void attach_input(struct attach *a)
{
	while (a->pending > 0 && a->in_fd >= 0) {
		ssize_t w = write(a->in_fd, a->in_buf, a->pending);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) { /* the reader is gone: nothing will take input again */
			if (a->in_fd != a->tty_fd)
				close(a->in_fd);
			a->in_fd = -1;
			break;
		}
		memmove(a->in_buf, a->in_buf + w, a->pending - w);
		a->pending -= w;
	}
	if (a->in_fd < 0)
		a->pending = 0;
}

/* attach_message handles a client's packet (see the header comment). */
static void attach_message(struct attach *a, int i)
{
	char *msg = a->in_buf; /* nothing is pending: the caller checked */
	ssize_t n = recv(a->clients[i], msg, ATTACH_MSG_MAX, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		attach_drop(a, i);
		return;
	}
	switch (msg[0]) {
	case 0:
		if (a->in_fd >= 0 && n > 1) {
			memmove(a->in_buf, msg + 1, n - 1);
			a->pending = n - 1;
			attach_input(a);
		}
		break;
	case 1: {
		struct winsize ws = { 0 };
		unsigned rows, cols;
		msg[n] = 0;
		if (a->tty_fd >= 0 && sscanf(msg + 1, "%u %u", &rows, &cols) == 2) {
			ws.ws_row = rows;
			ws.ws_col = cols;
			ioctl(a->tty_fd, TIOCSWINSZ, &ws);
		}
		break;
	}
	case 2:
		if (a->in_fd >= 0 && a->in_fd != a->tty_fd) {
			close(a->in_fd);
			a->in_fd = -1;
			a->pending = 0;
		}
		break;
	}
}

/* attach_poll fills fds with what the attach side waits for: the
 * listening socket, the stdin when input is pending (then no client is
 * read), and the clients. Returns how many; fds holds 2+n_clients. */
static int attach_poll(const struct attach *a, struct pollfd *fds)
{
	int n = 0;
	short client_events = a->pending > 0 ? 0 : POLLIN;

	fds[n++] = (struct pollfd){ a->listen_fd, POLLIN, 0 };
	fds[n++] = (struct pollfd){ a->pending > 0 ? a->in_fd : -1, POLLOUT, 0 };
	for (int i = 0; i < a->n_clients; i++)
		fds[n++] = (struct pollfd){ a->clients[i], client_events, 0 };
	return n;
}

/* attach_events handles what attach_poll's descriptors reported. */
static void attach_events(struct attach *a, const struct pollfd *fds, int n)
{
	if (fds[1].revents)
		attach_input(a);
	/* the clients in fds (a new client may be added below) */
	for (int k = n - 1; k >= 2; k--) {
		int i = k - 2;
		if (i >= a->n_clients || a->clients[i] != fds[k].fd)
			continue;
		if (fds[k].revents & POLLIN) {
			if (a->pending == 0) /* else the packet waits in its socket */
				attach_message(a, i);
		} else if (fds[k].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			attach_drop(a, i);
		}
	}
	if (fds[0].revents & POLLIN) {
		int c;
		while ((c = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			if (a->n_clients == a->cap_clients) {
				int cap = a->cap_clients ? 2 * a->cap_clients : 4;
				int *cl = realloc(a->clients, cap * sizeof *cl);
				if (!cl) {
					close(c);
					break;
				}
				a->clients = cl;
				a->cap_clients = cap;
			}
			a->clients[a->n_clients++] = c;
		}
	}
}

/* attach_close ends every client's connection and removes the socket. */
static void attach_close(struct attach *a)
{
	struct sockaddr_un sa;

	while (a->n_clients > 0)
		attach_drop(a, 0);
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		a->listen_fd = -1;
		if (sock_at(a, a->sock_name, &sa) == 0)
			unlink(sa.sun_path);
	}
}

/* stream_read reads what the pipe (or the pty) holds, sends it to the
 * attached clients and logs each complete line (and a line that fills the
 * buffer). Returns 1 when it read, 0 at end of file (EIO: the pty's slave
 * is closed), 2 when the pipe is empty. */
static int stream_read(struct stream *s, struct logfile *l, struct attach *a)
{
	ssize_t r = read(s->fd, s->line + s->len, sizeof s->line - s->len);

	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 2 : 0;
	if (r > 0)
		attach_broadcast(a, s->id, s->line + s->len, r);
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

/* delete_container runs RUNTIME delete --force ID, its errors ignored. */
static void delete_container(const struct opts *o)
{
	const char *del[] = { "delete", "--force", o->id, NULL };
	char ignored[256];

	run_runtime(o, del, -1, -1, ignored, sizeof ignored);
}

/* streams_close closes the container's output streams (drained by the
 * caller) and forgets what was left of their lines. */
static void streams_close(struct stream *const s[3])
{
	for (int i = 0; i < 3; i++) {
		if (s[i]->fd >= 0)
			close(s[i]->fd);
		s[i]->fd = -1;
		s[i]->len = 0;
	}
}

/* create_container runs the runtime's create: the container's stdout and
 * stderr are new pipes whose read ends go to s[0] and s[1], its stdin and
 * pty as attach_stdio makes them (the pty master to s[2]). Returns 0 with
 * the init's pid in *pid, or -1 with the reason in errbuf (nothing of the
 * container left with the runtime). */
static int create_container(const struct opts *o, struct attach *a, struct stream *const s[3],
			    pid_t *pid, char *errbuf, size_t errsize)
{
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, in, status;
	const char *console, *create[10];
	FILE *pf = NULL;

	*pid = 0;
	if (attach_stdio(a, o, &in, &console) < 0) {
		snprintf(errbuf, errsize, "stdin and pty: %s", strerror(errno));
		return -1;
	}
	if (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		snprintf(errbuf, errsize, "pipes: %s", strerror(errno));
		goto fail;
	}
	create_args(o, console, create);
	pid_t cpid = spawn(o, create, in, op[1], ep[1]);
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	if (cpid < 0) {
		snprintf(errbuf, errsize, "runtime create: %s", strerror(errno));
		goto fail;
	}
	while (waitpid(cpid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(errbuf, errsize, "runtime create: wait: %s", strerror(errno));
			goto fail;
		}
	fcntl(op[0], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		int k = snprintf(errbuf, errsize, "runtime create: ");
		ssize_t n = read(ep[0], errbuf + k, errsize - k - 1);
		if (n <= 0)
			snprintf(errbuf + k, errsize - k, "failed");
		else
			errbuf[k + n] = 0;
		goto fail;
	}
	int master = attach_created(a, o);
	if (o->tty && master < 0) {
		snprintf(errbuf, errsize, "the pty master from the runtime: %s", strerror(errno));
		delete_container(o);
		goto fail;
	}
	if (!(pf = fopen(o->pid_file, "re")) || fscanf(pf, "%d", pid) != 1 || *pid <= 0) {
		snprintf(errbuf, errsize, "pid file %s: no pid", o->pid_file);
		if (pf)
			fclose(pf);
		if (master >= 0)
			close(master);
		delete_container(o);
		goto fail;
	}
	fclose(pf);
	s[0]->fd = op[0];
	s[1]->fd = ep[0];
	if (master >= 0)
		s[2]->fd = master; /* else untouched: the pty stream's page not dirtied */
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	return -1;
}

/* restart_container applies the restart policy once the init has ended
 * with code at finished: it returns 1 with a new init running (its pid in
 * *pid, its output in new streams, its stdin and pty new too, started,
 * the memory cgroup and its OOM count renewed), or 0 when the container
 * ends for good (the caller writes the exit record and deletes it). */
static int restart_container(const struct opts *o, struct restarts *r, int code,
			     const char *finished, struct logfile *l, pid_t *pid, struct attach *a,
			     struct stream *const streams[3], char *started, size_t started_size,
			     char *memcg, size_t memcg_size, long *oom_before)
{
	const char *start[] = { "start", o->id, NULL };
	char errbuf[2048];

	if (!restart_wanted(o, r, code))
		return 0;
	r->count++;
	write_restart_file(o, r, 0, started, code, finished);
	delete_container(o);
	if (!backoff(o, r))
		return 0;
	streams_close(streams);
	if (create_container(o, a, streams, pid, errbuf, sizeof errbuf) < 0) {
		restart_note(l, "create", errbuf);
		return 0;
	}
	if (stop_requested(o) || run_runtime(o, start, -1, -1, errbuf, sizeof errbuf) != 0) {
		if (!stop_requested(o))
			restart_note(l, "runtime start", errbuf[0] ? errbuf : "failed");
		delete_container(o);
		streams_close(streams);
		return 0;
	}
	now_rfc3339(started, started_size);
	clock_gettime(CLOCK_MONOTONIC, &r->began);
	find_memory_cgroup(*pid, memcg, memcg_size);
	*oom_before = oom_kills(memcg);
	write_restart_file(o, r, *pid, started, code, finished);
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
			"[--exit-command PATH [--exit-command-arg ARG]...] [--attach-socket PATH] [--stdin] [--tty]\n");
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
		{ "exit-command", 1, 0, 'x' }, { "exit-command-arg", 1, 0, 'X' },
		{ "attach-socket", 1, 0, 'A' }, { "stdin", 0, 0, 'I' }, { "tty", 0, 0, 'T' },
		{ 0, 0, 0, 0 },
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
		case 'A': { /* split in place: no path buffer on the stack */
			char *slash = strrchr(optarg, '/');
			o->attach_dir = slash ? (slash == optarg ? "/" : optarg) : ".";
			o->attach_name = slash ? slash + 1 : optarg;
			if (slash && slash != optarg)
				*slash = 0;
			break;
		}
		case 'I': o->stdin_open = 1; break;
		case 'T': o->tty = 1; break;
		default: usage();
		}
	}
	if (!o->runtime || !o->id || !o->bundle || !o->pid_file || !o->log || !o->exit_file ||
	    o->max_file < 1 || o->max_size < 0 || o->restart_max < 0 || optind != argc ||
	    (o->n_exit_args > 0 && !o->exit_args[0]) || (o->tty && !o->attach_dir))
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
	static struct stream out = { .name = "stdout", .id = 1 }, err = { .name = "stderr", .id = 2 },
			     pty = { .name = "stdout", .id = 1, .fd = -1 };
	/* on the stack, the input buffer apart: a page dirtied only by input */
	static char attach_in[ATTACH_MSG_MAX + 1];
	struct attach att = { .listen_fd = -1, .console_fd = -1, .dir_fd = -1, .in_fd = -1,
			      .in_pipe = -1, .tty_fd = -1, .in_buf = attach_in };
	/* started stays empty with --no-start: the CLI that starts it keeps the time */
	char errbuf[2048], started[64] = "", finished[64], memcg[4096];
	int status, code = -1;
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
	if (sfd < 0)
		fail(sync, "signalfd: %s", strerror(errno));
	if (log_open(&l) < 0)
		fail(sync, "log %s: %s", o.log, strerror(errno));
	if (attach_listen(&att, &o) < 0)
		fail(sync, "attach socket %s/%s: %s", o.attach_dir, o.attach_name, strerror(errno));

	/* create: the container's stdout and stderr are pipes of ours */
	struct stream *const streams[3] = { &out, &err, &pty };
	pid_t pid;
	if (create_container(&o, &att, streams, &pid, errbuf, sizeof errbuf) < 0)
		fail(sync, "%s", errbuf);
	find_memory_cgroup(pid, memcg, sizeof memcg);
	long oom_before = oom_kills(memcg);

	if (!o.no_start) {
		const char *start[] = { "start", o.id, NULL };
		status = run_runtime(&o, start, -1, -1, errbuf, sizeof errbuf);
		if (status != 0) {
			delete_container(&o);
			fail(sync, "runtime start: %s", errbuf[0] ? errbuf : "failed");
		}
		now_rfc3339(started, sizeof started);
	}
	monitor_started(&o, &rs);
	dprintf(sync, "ok %d", pid);
	close(sync);

	/* copy the logs and reap until the container's init has ended */
run: /* again after each restart (restart_container) */
	while (code < 0) {
		struct pollfd fds[6 + att.n_clients]; /* a VLA: freed each turn */
		fds[0] = (struct pollfd){ sfd, POLLIN, 0 };
		for (int i = 0; i < 3; i++)
			fds[i + 1] = (struct pollfd){ streams[i]->fd, POLLIN, 0 };
		int n = 4 + attach_poll(&att, fds + 4);
		if (poll(fds, n, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 3; i++)
			if (streams[i]->fd >= 0 && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    stream_read(streams[i], &l, &att) == 0) {
				close(streams[i]->fd);
				streams[i]->fd = -1;
			}
		attach_events(&att, fds + 4, n - 4);
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
	for (int i = 0; i < 3; i++) {
		while (streams[i]->fd >= 0 && stream_read(streams[i], &l, &att) == 1)
			;
		if (streams[i]->len > 0)
			log_record(&l, streams[i]->name, streams[i]->line, streams[i]->len);
	}
	long oom_after = oom_kills(memcg);
	int oom = oom_before >= 0 && oom_after > oom_before;
	if (restart_container(&o, &rs, code, finished, &l, &pid, &att, streams, started,
			      sizeof started, memcg, sizeof memcg, &oom_before)) {
		code = -1;
		goto run;
	}

	write_exit_file(o.exit_file, code, oom, started, finished, &l);
	attach_close(&att); /* the clients learn the end, and read the record */
	delete_container(&o);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	run_exit_command(&o);
	return 0;
}
