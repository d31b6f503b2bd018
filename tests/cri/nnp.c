/*
 * nnp: the CRI lane's stand-in for the e2e "nonewprivs" image's program.
 * Installed set-user-ID root (mode 04755) by mkimages; run as another
 * user, it prints the effective uid it got: 0 where the runtime allows
 * privilege escalation, the caller's where no_new_privs stops it.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("Effective uid: %d\n", (int)geteuid());
	return 0;
}
