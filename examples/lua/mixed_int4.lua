-- mixed_int4.lua: weight-only int4 in groups of 64 for every MatMul and Gemm, except the
-- output head (names like "head" or "lm_head"), which stays float32.
--   onnxcc build examples/chartf/chartf.onnx examples/chartf/samples/context_0.pb \
--       --dim batch=1 --pipeline examples/lua/mixed_int4.lua -o chartf_mixed
-- The output layer decides every logit; keeping it in float costs little (64x97 weights
-- here) and spares the error int4 would add where it shows most.
onnxcc.options{quantize_weights = "int4", group = 64}

onnxcc.quantize_if(function(node)
    if node.op ~= "MatMul" and node.op ~= "Gemm" then
        return true
    end
    return not node.name:find("head", 1, true)
end)

-- the -O2 pipeline as it stands (quantize_weights reads the options above)
return onnxcc.pipeline(2)
