/*
 * The rootless entry's middle stage: a process that a non-root runtime
 * cloned into a new user namespace waits here, before any Go runtime
 * starts, until the runtime outside has written the namespace's maps
 * (with newuidmap/newgidmap, package rootless), then executes the
 * runtime again, which so starts as uid 0 of the namespace with its full
 * set of capabilities there.
 *
 * Why a stage at all: the clone puts the child in the new namespace
 * before any map exists, and Go's fork executes the program at once; an
 * execve by an unmapped uid clears every capability, and once the maps
 * are written nothing but another execve as uid 0 gives them back. This
 * stage is that execve, without a second Go runtime start in between
 * (the execs, counted: the runtime, this helper, the runtime again).
 *
 * The runtime starts this binary with
 *
 *   ENV_SYNC=3            the read end of a pipe: "1" once the maps are
 *                         written; end of file without it: the runtime
 *                         failed (and reports why), exit 1 quietly
 *   ENV_EXEC=/path        the runtime's binary, executed with this
 *                         process's argv and environment (the variables
 *                         dropped)
 *
 * or, to join the user namespace that the user's running containers are
 * in (package rootless, holders.go), started outside it, with
 *
 *   ENV_JOIN=3            an open file of that user namespace: setns(2)
 *                         into it (which the owner of a namespace may,
 *                         from its parent), then a mount namespace of
 *                         its own (unshare), then ENV_EXEC as above
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENV_SYNC "_MINIMAL_DOCKER_USERNS_SYNC"
#define ENV_JOIN "_MINIMAL_DOCKER_USERNS_JOIN"
#define ENV_EXEC "_MINIMAL_DOCKER_USERNS_EXEC"

static void userns_die(const char *what)
{
	dprintf(STDERR_FILENO, "minimal-docker: rootless entry: %s: %s\n", what, strerror(errno));
	_exit(125);
}

/* glibc passes the constructors of the executable argc, argv and envp. */
__attribute__((constructor)) static void userns_stage(int argc, char **argv, char **envp)
{
	const char *sync = getenv(ENV_SYNC), *join = getenv(ENV_JOIN), *exe = getenv(ENV_EXEC);
	const char *v = sync ? sync : join;
	char *end, c = 0, path[PATH_MAX];
	ssize_t n;
	long fd;

	(void)argc;
	(void)envp;
	if (v == NULL)
		return;
	errno = EINVAL;
	fd = strtol(v, &end, 10);
	if (end == v || *end != '\0' || fd < 3 || fd > INT_MAX)
		userns_die(sync ? "bad " ENV_SYNC : "bad " ENV_JOIN);
	if (exe == NULL || strlen(exe) >= sizeof(path))
		userns_die("bad " ENV_EXEC);
	strcpy(path, exe);
	if (sync != NULL) {
		do
			n = read((int)fd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			userns_die("wait for the maps");
		if (n == 0 || c != '1')
			_exit(1); /* the runtime outside says what failed */
	} else {
		if (setns((int)fd, CLONE_NEWUSER) < 0)
			userns_die("join the containers' user namespace: setns");
		if (unshare(CLONE_NEWNS) < 0)
			userns_die("unshare(CLONE_NEWNS)");
	}
	close((int)fd);
	unsetenv(ENV_SYNC);
	unsetenv(ENV_JOIN);
	unsetenv(ENV_EXEC);
	execv(path, argv);
	userns_die(path);
}
