/*
 * pause: the pod sandbox's process for the CRI lane's pause image. It
 * holds the pod's namespaces, reaps the orphans of its pid namespace and
 * exits on SIGINT or SIGTERM, as Kubernetes' pause does. Built statically
 * by tests/cri/lane.sh.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { _exit(128 + sig); }

static void reap(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction q = { .sa_handler = quit };
	struct sigaction r = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP };

	if (getpid() != 1) /* a pod that shares the host's pid namespace */
		write(2, "pause: not PID 1: orphans are not reaped here\n", 47);
	if (sigaction(SIGINT, &q, NULL) || sigaction(SIGTERM, &q, NULL) ||
	    sigaction(SIGCHLD, &r, NULL))
		return 2;
	for (;;)
		pause();
}
