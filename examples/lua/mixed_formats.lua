-- mixed_formats.lua: a format per layer. The attention projections (q, k, v, o) keep
-- int8 weights, the feed-forward layers (ff1, ff2: two thirds of the weights) take
-- int4 in groups of 32, and the output head stays float32.
--   onnxcc build examples/chartf/chartf.onnx examples/chartf/samples/context_0.pb \
--       --dim batch=1 --pipeline examples/lua/mixed_formats.lua -o chartf_mixed
-- quantize_if answers per node: true (the options' format), false (float32), or a
-- table {format=, group=} of the node's own.
onnxcc.options{quant_report = true}

onnxcc.quantize_if(function(node)
    if node.op ~= "MatMul" and node.op ~= "Gemm" then
        return true
    end
    if node.name:find("/ff%d/") then
        return {format = "int4", group = 32}
    end
    if node.name:find("/[qkvo]/") then
        return {format = "int8"}
    end
    return false -- the head, and the attention's own products of activations
end)

return onnxcc.pipeline(2)
