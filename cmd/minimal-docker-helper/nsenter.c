/*
 * The constructor that joins a running container's namespaces before the
 * Go runtime starts (runc's nsenter, much reduced), for exec; and for a
 * container's init in a user namespace joined by path (ENV_UNSHARE), the
 * one that joins it and makes the container's new namespaces there.
 *
 * setns(2) into a mount or user namespace needs a single-threaded process,
 * and a Go program has several threads before main. A constructor runs
 * before the Go runtime, while the process is still one thread. Without
 * ENV_JOIN it returns at once, and the helper's Go main runs (seccomp
 * compilation); with it, it never returns: the Go runtime of this binary
 * never starts.
 *
 * The runtime (package nsenter, Start) executes this binary with
 *
 *   ENV_JOIN=ipc:4,uts:5,net:6,pid:7,mnt:8   namespaces to join, in order:
 *                                            NAME:FD of inherited open files
 *                                            of /proc/PID/ns/NAME
 *   ENV_PIPE=3                               the write end of a pipe
 *   ENV_PLAN=9                               the handshake socket, on which
 *                                            the runtime sends the plan
 *   ENV_UNSHARE=FLAGS                        (optional) a container's init
 *                                            in a user namespace joined by
 *                                            path: after the setns calls,
 *                                            become the namespace's root
 *                                            (setresgid, setresuid 0) and
 *                                            unshare(FLAGS), the CLONE_NEW*
 *                                            flags of the namespaces to
 *                                            make, which it then owns
 *
 * The order is the Go side's (user first, mnt last). Joining a pid
 * namespace moves only the caller's future children, so after the setns
 * calls the process forks once: the parent writes "<child pid>\n" to the
 * pipe (the pid as the runtime sees it) and exits 0; the child, inside
 * every namespace, drops the variables, closes the pipe and runs the plan
 * the runtime sends on ENV_PLAN's socket (plan_main, plan.c: the
 * process's credentials, console, seccomp filter and exec, as the
 * container's init does), and exits with its status if it fails. The
 * runtime, a child subreaper, inherits the child. Any failure writes
 * "error: <what>: <strerror>\n" to the pipe (or, without a pipe, to
 * stderr) and exits 1: before the fork nothing was forked; after it, the
 * runtime kills and reaps the child it was told of.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "plan.h"

#define ENV_JOIN "_MINIMAL_DOCKER_NSENTER"
#define ENV_PIPE "_MINIMAL_DOCKER_NSENTER_PIPE"
#define ENV_PLAN "_MINIMAL_DOCKER_PLAN_FD"
#define ENV_UNSHARE "_MINIMAL_DOCKER_NSENTER_UNSHARE"

/* The namespaces ENV_UNSHARE may make (the cgroup namespace is the plan's
 * to make, once the parent has placed the init in its cgroup). */
#define UNSHARE_MASK (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID)

static int report_fd = STDERR_FILENO;

/* die reports "what arg: strerror(errno)" and exits 1. */
static void die(const char *what, const char *arg)
{
	const char *reason = strerror(errno);

	if (report_fd == STDERR_FILENO)
		dprintf(report_fd, "minimal-docker nsenter: %s%s: %s\n", what, arg, reason);
	else
		dprintf(report_fd, "error: %s%s: %s\n", what, arg, reason);
	_exit(1);
}

/* parse_fd reads a descriptor number (3 or more) at s and sets *end past
 * it; -1 if there is none. */
static int parse_fd(const char *s, char **end)
{
	long n;

	errno = 0;
	n = strtol(s, end, 10);
	if (errno != 0 || *end == s || n < 3 || n > INT_MAX)
		return -1;
	return (int)n;
}

/* env_fd reads the descriptor named by the variable env, or dies. */
static int env_fd(const char *env)
{
	const char *v = getenv(env);
	char *end;
	int fd;

	if (v == NULL || (fd = parse_fd(v, &end)) < 0 || *end != '\0') {
		errno = EINVAL;
		die(env, v ? "=bad value" : " unset");
	}
	return fd;
}

__attribute__((constructor)) static void nsenter(void)
{
	const char *join = getenv(ENV_JOIN), *p;
	char name[16], *end;
	pid_t child;
	int fd, plan_fd, joined_user = 0;
	unsigned long unshare_flags = 0;

	if (join == NULL)
		return;
	report_fd = env_fd(ENV_PIPE);
	plan_fd = env_fd(ENV_PLAN);

	/* Until execve: no core dumps, and processes of the container may not
	 * ptrace us or open /proc/PID/exe (this binary); the plan's exec
	 * makes the user's program dumpable again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl(PR_SET_DUMPABLE)", "");

	if ((p = getenv(ENV_UNSHARE)) != NULL) {
		errno = 0;
		unshare_flags = strtoul(p, &end, 10);
		if (errno != 0 || end == p || *end != '\0' || (unshare_flags & ~(unsigned long)UNSHARE_MASK) != 0) {
			errno = EINVAL;
			die("bad " ENV_UNSHARE "=", p);
		}
	}

	for (p = join; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : 0;

		errno = EINVAL;
		if (len == 0 || len >= sizeof(name))
			die("bad " ENV_JOIN "=", join);
		memcpy(name, p, len);
		name[len] = '\0';
		fd = parse_fd(colon + 1, &end);
		if (fd < 0 || (*end != ',' && *end != '\0'))
			die("bad " ENV_JOIN "=", join);
		if (setns(fd, 0) < 0)
			die("setns ", name);
		close(fd);
		joined_user |= strcmp(name, "user") == 0;
	}
	if (getenv(ENV_UNSHARE) != NULL) {
		/* A container's init: root of the user namespace it joined (the
		 * host's root is not mapped there), then the maker of its new
		 * namespaces, which that user namespace owns. setgroups is
		 * refused where the namespace's setgroups file says deny. */
		if (joined_user) {
			if (setgroups(0, NULL) < 0 && errno != EPERM)
				die("setgroups", "");
			if (setresgid(0, 0, 0) < 0)
				die("setresgid 0 in the joined user namespace", "");
			if (setresuid(0, 0, 0) < 0)
				die("setresuid 0 in the joined user namespace", "");
			/* setresuid made us non-dumpable; stay so until execve. */
		}
		if (unshare_flags != 0 && unshare((int)unshare_flags) < 0)
			die("unshare", "");
		unsetenv(ENV_UNSHARE);
	}

	child = fork();
	if (child < 0)
		die("fork", "");
	if (child == 0) {
		/* In the namespaces: run the plan. The pipe closes now: the
		 * runtime reads it to its end before it sends the plan. */
		if (fcntl(plan_fd, F_SETFD, FD_CLOEXEC) < 0)
			die("fcntl(FD_CLOEXEC)", "");
		unsetenv(ENV_JOIN);
		unsetenv(ENV_PIPE);
		unsetenv(ENV_PLAN);
		close(report_fd);
		report_fd = STDERR_FILENO;
		_exit(plan_main(plan_fd));
	}
	if (dprintf(report_fd, "%d\n", (int)child) < 0)
		die("report the pid", "");
	_exit(0);
}
