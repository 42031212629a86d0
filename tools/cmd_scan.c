#include "tools/tools.h"
#include <stdio.h>
int cmd_scan(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "kubesurvey scan: being written (issue 2)\n");
    return EXIT_RUNTIME;
}
