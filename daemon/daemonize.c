/*
 * daemonize.c - this file forks rauditd into the background and lets the
 * parent exit only once the child is ready, with the child's exit code.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "daemonize.h"
#include "log.h"

/* The pipe to the waiting parent; -1 once told (or never forked). */
static int daemonize_fd = -1;

static void
daemonize_tell(int code)
{
	char c = (char)code;
	ssize_t n;

	if (daemonize_fd < 0)
		return;
	n = write(daemonize_fd, &c, 1);
	(void)n;
	close(daemonize_fd);
	daemonize_fd = -1;
}

void
daemonize_start(int silent_code, int resource_code)
{
	int p[2], fd;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		fatal(resource_code, "pipe");
	pid = fork();
	if (pid < 0)
		fatal(resource_code, "fork");
	if (pid > 0) {
		char c = (char)silent_code;
		ssize_t n;
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		/* No byte: the child exited before it was ready. */
		_exit(n == 1 ? (unsigned char)c : silent_code);
	}
	close(p[0]);
	daemonize_fd = p[1];
	/* fatal() in the child: hand the exit code to the waiting parent. */
	log_set_exit_hook(daemonize_tell);
	if (setsid() < 0)
		fatal(resource_code, "setsid");
	if (chdir("/") < 0)
		fatal(resource_code, "chdir /");
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

void
daemonize_ready(int code)
{
	int fd;

	if (daemonize_fd < 0)
		return;
	daemonize_tell(code);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}
