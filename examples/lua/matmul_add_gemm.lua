-- matmul_add_gemm.lua: a custom fusion. Exporters write a Linear layer over a 2-D input
-- as MatMul then Add of the bias; Gemm does both in one kernel, the bias added in the
-- GEMM's epilogue while the tile is in registers, instead of a second pass over memory.
--   onnxcc build tests/data/lua_mlp/model.onnx --pipeline examples/lua/matmul_add_gemm.lua -o mlp
local function is_const(v, rank)
    return v.is_constant and v.rank == rank and v.dtype == "float32"
end

onnxcc.pass("matmul_add_gemm", function(g)
    local fused = 0
    for _, chain in ipairs(g:match{"MatMul", "Add"}) do
        local mm, add = chain[1], chain[2]
        local a, w = mm.inputs[1], mm.inputs[2]
        local y = mm.outputs[1]
        -- the Add's other operand, whichever side it is on
        local b = add.inputs[1] == y and add.inputs[2] or add.inputs[1]
        if a.rank == 2 and a.dtype == "float32" and is_const(w, 2) and is_const(b, 1) and
            b.shape[1] == w.shape[2] and not add.outputs[1].is_output then
            g:replace({mm, add}, {op = "Gemm", inputs = {a, w, b}, name = add.name .. "/gemm"})
            fused = fused + 1
        end
    end
    print(string.format("matmul_add_gemm: %d MatMul + Add pairs became Gemm", fused))
end)

local passes = onnxcc.pipeline(2)
table.insert(passes, 2, "matmul_add_gemm") -- right after shape, before fold and fuse
return passes
