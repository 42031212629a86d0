/*
 * html.h - what the two HTML pages of tools/analysis (report.c, series.c)
 * share; internal to the module.
 */
#ifndef KS_TOOLS_ANALYSIS_HTML_H
#define KS_TOOLS_ANALYSIS_HTML_H

#include <stdio.h>

/* Writes s with < > & " ' as HTML entities: text from a database (provider
 * names, titles, ...) is untrusted. */
void html_escaped(FILE *out, const char *s);

#endif
