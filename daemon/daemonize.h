/*
 * daemonize.h - going into the background the way a service manager of
 * Type=forking expects: the parent waits until the child says it is ready
 * (or fails, with the child's exit code) and exits with that. Main thread,
 * at startup, before any other thread exists.
 */
#ifndef RAUDITD_DAEMONIZE_H
#define RAUDITD_DAEMONIZE_H

/*
 * Fork; only the child returns, in a new session, in /, with stdin and
 * stdout on /dev/null. A fatal() before daemonize_ready() hands its code to
 * the parent; a child that dies without a word makes the parent exit with
 * silent_code. Failing to fork is fatal with resource_code.
 */
void daemonize_start(int silent_code, int resource_code);

/* Tell the waiting parent code (0: ready) and put stderr on /dev/null.
 * Nothing when not daemonized. */
void daemonize_ready(int code);

#endif
