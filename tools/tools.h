/*
 * tools.h - the kubesurvey subcommands. Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage error.
 */
#ifndef KS_TOOLS_H
#define KS_TOOLS_H

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

int cmd_scan(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_scans(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_compact(int argc, char **argv);

#endif
