-- fold_mul_one.lua: a rewrite in Lua: Mul by a constant of ones (scalar or broadcast) is
-- removed and its readers read the other operand, between the built-in passes.
--   onnxcc build tests/data/lua_mul1/model.onnx --pipeline examples/lua/fold_mul_one.lua -o m
-- A Mul whose output would differ from the operand in shape (the ones broadcast it
-- wider) or that computes a graph output is left alone.

local function all_ones(v)
    if not v.is_constant or v.numel > 65536 then
        return false
    end
    for _, x in ipairs(v:data()) do
        if x ~= 1 then
            return false
        end
    end
    return true
end

local function same_type(a, b)
    if a.dtype ~= b.dtype or a.rank ~= b.rank then
        return false
    end
    local sa, sb = a.shape, b.shape
    for i = 1, a.rank do
        if sa[i] ~= sb[i] then
            return false
        end
    end
    return true
end

onnxcc.pass("fold_mul_one", function(g)
    local removed = 0
    for _, node in ipairs(g:find{op = "Mul"}) do
        local out = node.outputs[1]
        for i = 1, 2 do
            local x, c = node.inputs[i], node.inputs[3 - i]
            if not out.is_output and all_ones(c) and same_type(x, out) then
                g:remove_node(node, x)
                removed = removed + 1
                break
            end
        end
    end
    print(string.format("fold_mul_one: removed %d Mul nodes", removed))
end)

onnxcc.run_pass("shape")
onnxcc.run_pass("fold_mul_one")
local rest = onnxcc.pipeline(2)
for i = 2, #rest do -- rest[1] is shape
    onnxcc.run_pass(rest[i])
end
