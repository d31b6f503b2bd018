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
 *                         process's argv and environment (both variables
 *                         dropped)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENV_SYNC "_MINIMAL_DOCKER_USERNS_SYNC"
#define ENV_EXEC "_MINIMAL_DOCKER_USERNS_EXEC"

static void userns_die(const char *what)
{
	dprintf(STDERR_FILENO, "minimal-docker: rootless entry: %s: %s\n", what, strerror(errno));
	_exit(125);
}

/* glibc passes the constructors of the executable argc, argv and envp. */
__attribute__((constructor)) static void userns_stage(int argc, char **argv, char **envp)
{
	const char *sync = getenv(ENV_SYNC), *exe = getenv(ENV_EXEC);
	char *end, c = 0, path[PATH_MAX];
	ssize_t n;
	long fd;

	(void)argc;
	(void)envp;
	if (sync == NULL)
		return;
	errno = EINVAL;
	fd = strtol(sync, &end, 10);
	if (end == sync || *end != '\0' || fd < 3 || fd > INT_MAX)
		userns_die("bad " ENV_SYNC);
	if (exe == NULL || strlen(exe) >= sizeof(path))
		userns_die("bad " ENV_EXEC);
	strcpy(path, exe);
	do
		n = read((int)fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		userns_die("wait for the maps");
	if (n == 0 || c != '1')
		_exit(1); /* the runtime outside says what failed */
	close((int)fd);
	unsetenv(ENV_SYNC);
	unsetenv(ENV_EXEC);
	execv(path, argv);
	userns_die(path);
}
