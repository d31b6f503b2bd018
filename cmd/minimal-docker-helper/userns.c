/*
 * The rootless entry's middle stage: a process that a non-root runtime
 * cloned into a new user namespace waits here, before any Go runtime
 * starts, until the runtime outside has written the namespace's maps
 * (with newuidmap/newgidmap, package rootless), then executes the
 * runtime again as uid 0 of the namespace, which so starts with its full
 * set of capabilities there.
 *
 * Why a stage at all: the namespace's root must be uid 0 inside with its
 * capabilities, and the user's own uid is not 0 inside (package rootless
 * maps its subordinate ids first, so that root inside is one of them). A
 * process that makes a user namespace (unshare) or joins one (setns) has
 * every capability in it, whatever its uid, until its next execve: this
 * stage makes the namespace, waits for the maps, becomes uid and gid 0
 * and executes the runtime again (the execs, counted: the runtime, this
 * helper, the runtime again), before any Go runtime starts.
 *
 * The runtime starts this binary with
 *
 *   ENV_SYNC=3,4          fd 3, the read end of a pipe: "1" once the maps
 *                         are written; end of file without it: the
 *                         runtime failed (and reports why), exit 1
 *                         quietly. fd 4, the write end of another: "1"
 *                         once the namespaces are made (a user namespace
 *                         and a mount namespace it owns), for the runtime
 *                         to write the maps of this process's; "2" once
 *                         it is uid 0 there and dumpable again, so that
 *                         the user's other commands can open its
 *                         /proc/PID/ns/user (the runtime lists it as the
 *                         namespace's holder only then, holders.go)
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
#include <sys/prctl.h>
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
	long fd, ready = -1;

	(void)argc;
	(void)envp;
	if (v == NULL)
		return;
	errno = EINVAL;
	fd = strtol(v, &end, 10);
	if (end == v || (sync ? *end != ',' : *end != '\0') || fd < 3 || fd > INT_MAX)
		userns_die(sync ? "bad " ENV_SYNC : "bad " ENV_JOIN);
	if (sync != NULL) {
		v = end + 1;
		ready = strtol(v, &end, 10);
		if (end == v || *end != '\0' || ready < 3 || ready > INT_MAX)
			userns_die("bad " ENV_SYNC);
	}
	if (exe == NULL || strlen(exe) >= sizeof(path))
		userns_die("bad " ENV_EXEC);
	strcpy(path, exe);
	if (sync != NULL) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			userns_die("unshare(CLONE_NEWUSER|CLONE_NEWNS)");
		if (write((int)ready, "1", 1) != 1)
			userns_die("tell the runtime the namespace is made");
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
	/*
	 * The user's own uid is not 0 inside (Maps puts its subordinate ids
	 * first, so that root inside is one of them): become 0, which the
	 * capabilities that a new or joined namespace gives allow, so that
	 * the execve keeps them. The supplementary groups stay, as Podman
	 * keeps them (the user's access to files by group).
	 */
	if (setresgid(0, 0, 0) < 0)
		userns_die("setresgid(0, 0, 0)");
	if (setresuid(0, 0, 0) < 0)
		userns_die("setresuid(0, 0, 0)");
	/*
	 * The change of ids made this process not dumpable, and its memory
	 * is still the host namespace's (this binary's execve was there):
	 * until its execve the user could not open its /proc/PID/ns/user,
	 * which a command at the same moment does to join it (holders.go).
	 * The runtime keeps the list of holders locked until this process
	 * says it is joinable again ("2").
	 */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		userns_die("prctl(PR_SET_DUMPABLE)");
	if (ready >= 0) {
		if (write((int)ready, "2", 1) != 1)
			userns_die("tell the runtime the namespace can be joined");
		close((int)ready);
	}
	unsetenv(ENV_SYNC);
	unsetenv(ENV_JOIN);
	unsetenv(ENV_EXEC);
	execv(path, argv);
	userns_die(path);
}
