/* fuzz_tensor.c: libFuzzer target for the runtime's tensor (.pb/.npy) and sequence/optional readers. */
#include "onnxcc_rt.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_file(data, size, "input.pb");
    char err[512];
    RtTensor t;
    if (rt_tensor_read(path, &t, err, sizeof err) == 0)
        rt_tensor_free(&t);
    /* every nesting onnxcc asks for: a tensor, sequences, optionals, and both */
    static const char *const nests[] = {"", "S", "O", "OS", "SO", "SS"};
    enum { MAX = 64 };
    static RtTensor ts[MAX];
    char layout[1024];
    for (size_t k = 0; k < sizeof nests / sizeof *nests; k++) {
        int count = 0;
        if (rt_struct_read(path, nests[k], ts, MAX, &count, layout, sizeof layout, err,
                           sizeof err) == 0)
            for (int i = 0; i < count; i++)
                rt_tensor_free(&ts[i]);
    }
    return 0;
}
