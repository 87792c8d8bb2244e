/* html.c: inspect --format html: one self-contained page, the JSON document and the embedded page script. */
#include <string.h>

#include "codegen/embedded.h"
#include "inspect.h"

static const char *page_file(const char *name)
{
    for (const EmbeddedFile *e = ins_page_files; e->name; e++)
        if (!strcmp(e->name, name))
            return e->text;
    IR_ASSERT(!"inspect page file missing");
    return "";
}

/* The page needs nothing from the network: its data is the JSON format in
 * a script element of type application/json (ins_json_str escapes '<', so
 * no name can close it early), its script and stylesheet are inlined. */
void ins_html(const Inspect *in, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>onnxcc inspect</title>\n<style>\n", f);
    fputs(page_file("page.css"), f);
    fputs("</style>\n</head>\n<body>\n<noscript>This report draws the graph with JavaScript; "
          "the same data is in onnxcc inspect --format json.</noscript>\n"
          "<script type=\"application/json\" id=\"onnxcc-data\">\n", f);
    ins_json(in, f);
    fputs("</script>\n<script>\n", f);
    fputs(page_file("page.js"), f);
    fputs("</script>\n</body>\n</html>\n", f);
}
