/* embedded.h: the runtime's source files, embedded in the compiler at build time. */
#ifndef ONNXCC_EMBEDDED_H
#define ONNXCC_EMBEDDED_H

#include <stddef.h>

typedef struct EmbeddedFile {
    const char *name;            /* base name, e.g. "k_conv.c" */
    const char *text;
    size_t len;
} EmbeddedFile;

/* Terminated by an entry whose name is NULL. */
extern const EmbeddedFile cg_runtime_files[];
/* The inspect page's stylesheet and script (inspect/page.css, page.js). */
extern const EmbeddedFile ins_page_files[];

#endif
