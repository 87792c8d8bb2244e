-- report.lua: per-op node counts, FLOPs and weight bytes of the optimized graph, on stderr.
--   onnxcc inspect examples/charlm/charlm.onnx --dim batch=1 --pipeline examples/lua/report.lua
-- Counts what runs: nodes whose outputs are all known at compile time are not counted
-- (as `onnxcc cost` does, whose total this total matches).
for _, name in ipairs(onnxcc.pipeline(2)) do
    onnxcc.run_pass(name)
end

local g = onnxcc.graph()
local rows, order = {}, {}
local total = {nodes = 0, flops = 0, weights = 0}
for node in g:nodes() do
    if not node.is_constant then
        local r = rows[node.op]
        if not r then
            r = {nodes = 0, flops = 0, weights = 0}
            rows[node.op] = r
            order[#order + 1] = node.op
        end
        local w = 0
        for _, v in ipairs(node.inputs) do
            if v and v.is_constant then
                w = w + v.nbytes
            end
        end
        r.nodes, r.flops, r.weights = r.nodes + 1, r.flops + node.flops, r.weights + w
        total.nodes, total.flops = total.nodes + 1, total.flops + node.flops
        total.weights = total.weights + w
    end
end

table.sort(order, function(a, b) return rows[a].flops > rows[b].flops end)
print(string.format("%-20s %6s %12s %12s", "op", "nodes", "MFLOP", "weight KB"))
for _, op in ipairs(order) do
    local r = rows[op]
    print(string.format("%-20s %6d %12.3f %12.1f", op, r.nodes, r.flops / 1e6, r.weights / 1024))
end
print(string.format("total: %d nodes, %.6f GFLOP, %.1f KB of weights", total.nodes,
                    total.flops / 1e9, total.weights / 1024))
