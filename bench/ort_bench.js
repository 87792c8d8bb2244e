#!/usr/bin/env node
// ort_bench.js: times ONNX Runtime (onnxruntime-node, CPU) on one model, to compare with onnxcc.
'use strict';

const fs = require('fs');
const path = require('path');

const USAGE = `usage: node ort_bench.js MODEL.onnx [INPUT ...] [--bench N] [--threads T]
                          [--expect OUTPUT.pb ...] [--quiet] [--qdq-float]
                          [--opt disabled|basic|extended|all]
  INPUT      input tensor as .pb (ONNX TensorProto) or .npy, in graph-input order or NAME=FILE
  --expect F expected output K (K-th --expect) as .pb/.npy: checks ONNX Runtime read the
             inputs right before timing it; exits 1 past rtol/atol 1e-3
  --bench N  timed runs after one warm-up run (default 100)
  --threads T  intra-op threads: 1 = like-for-like with onnxcc's single-threaded binary,
             0 = ONNX Runtime's default (one per physical core) (default 0)
  --quiet    print only the latency line
  --qdq-float  DequantizeLinear + MatMul, which ONNX Runtime fuses into MatMulNBits, keeps
             float activations (accuracy level 0; its default 4 rounds them to int8)
  --opt L    graph optimization level (default all; basic keeps DequantizeLinear + MatMul
             unfused: 1.30's MatMulNBits misreads 2-bit codes)
Prints: latency: min X ms, median X ms, mean X ms over N runs`;

function die(msg) {
    process.stderr.write(`ort_bench: ${msg}\n`);
    process.exit(1);
}

// ---- minimal protobuf wire-format reader, enough for onnx.TensorProto ----

class Reader {
    constructor(buf) {
        this.buf = buf;
        this.pos = 0;
    }

    // Varints are read as BigInt: int64_data may use all 64 bits.
    varint() {
        let result = 0n;
        let shift = 0n;
        for (;;) {
            if (this.pos >= this.buf.length) throw new Error('truncated varint');
            const b = this.buf[this.pos++];
            result |= BigInt(b & 0x7f) << shift;
            if (!(b & 0x80)) return result;
            shift += 7n;
            if (shift > 63n) throw new Error('varint too long');
        }
    }

    bytes() {
        const len = Number(this.varint());
        if (this.pos + len > this.buf.length) throw new Error('truncated field');
        const b = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return b;
    }

    skip(wire) {
        if (wire === 0) this.varint();
        else if (wire === 1) this.pos += 8;
        else if (wire === 2) this.bytes();
        else if (wire === 5) this.pos += 4;
        else throw new Error(`unsupported wire type ${wire}`);
    }
}

// A repeated scalar field may arrive packed (wire type 2) or one element per
// tag; proto3 writers pack, but the spec requires readers to accept both.
function readRepeated(r, wire, fixedSize, readOne, sink) {
    if (wire !== 2) {
        sink.push(readOne(r));
        return;
    }
    const sub = new Reader(r.bytes());
    while (sub.pos < sub.buf.length) sink.push(readOne(sub));
    if (fixedSize && sub.pos !== sub.buf.length) throw new Error('bad packed field');
}

const f32 = (r) => { const v = r.buf.readFloatLE(r.pos); r.pos += 4; return v; };
const f64 = (r) => { const v = r.buf.readDoubleLE(r.pos); r.pos += 8; return v; };
const vint = (r) => r.varint();

// onnx.TensorProto.DataType -> onnxruntime-node type name and typed array.
const DTYPES = {
    1: ['float32', Float32Array],
    2: ['uint8', Uint8Array],
    3: ['int8', Int8Array],
    4: ['uint16', Uint16Array],
    5: ['int16', Int16Array],
    6: ['int32', Int32Array],
    7: ['int64', BigInt64Array],
    9: ['bool', Uint8Array],
    10: ['float16', Uint16Array],
    11: ['float64', Float64Array],
    12: ['uint32', Uint32Array],
    13: ['uint64', BigUint64Array],
};

// Field numbers from onnx.proto (TensorProto): 1 dims, 2 data_type, 4 float_data,
// 5 int32_data, 7 int64_data, 8 name, 9 raw_data, 10 double_data, 11 uint64_data,
// 14 data_location.
function parseTensorProto(buf, file) {
    const r = new Reader(buf);
    const t = { dims: [], dtype: 0, name: '', raw: null, f: [], i32: [], i64: [], d: [], u64: [] };
    while (r.pos < buf.length) {
        const key = Number(r.varint());
        const field = key >>> 3;
        const wire = key & 7;
        switch (field) {
        case 1: readRepeated(r, wire, false, vint, t.dims); break;
        case 2: t.dtype = Number(r.varint()); break;
        case 4: readRepeated(r, wire, true, f32, t.f); break;
        case 5: readRepeated(r, wire, false, vint, t.i32); break;
        case 7: readRepeated(r, wire, false, vint, t.i64); break;
        case 8: t.name = r.bytes().toString('utf8'); break;
        case 9: t.raw = r.bytes(); break;
        case 10: readRepeated(r, wire, true, f64, t.d); break;
        case 11: readRepeated(r, wire, false, vint, t.u64); break;
        case 14:
            if (r.varint() !== 0n) throw new Error(`${file}: external data is not supported`);
            break;
        default: r.skip(wire);
        }
    }
    const dt = DTYPES[t.dtype];
    if (!dt) throw new Error(`${file}: unsupported TensorProto data_type ${t.dtype}`);
    const [type, Arr] = dt;
    const dims = t.dims.map(Number);
    const count = dims.reduce((a, b) => a * b, 1);
    let data;
    if (t.raw) {
        if (t.raw.length !== count * Arr.BYTES_PER_ELEMENT) {
            throw new Error(`${file}: raw_data has ${t.raw.length} bytes, expected ` +
                            `${count * Arr.BYTES_PER_ELEMENT}`);
        }
        // Copy so the typed array is aligned (raw_data sits at any offset).
        const copy = new Uint8Array(t.raw);
        data = new Arr(copy.buffer, 0, count);
    } else {
        // Without raw_data the values live in the field the spec assigns the type:
        // int32_data carries every type narrower than 32 bits, float16 as raw bits.
        const src = { 1: t.f, 11: t.d, 7: t.i64, 13: t.u64, 12: t.u64 }[t.dtype] || t.i32;
        if (src.length !== count) {
            throw new Error(`${file}: ${src.length} values, shape needs ${count}`);
        }
        data = new Arr(count);
        for (let i = 0; i < count; i++) {
            const v = src[i];
            if (Arr === BigInt64Array) data[i] = BigInt.asIntN(64, v);
            else if (Arr === BigUint64Array) data[i] = BigInt.asUintN(64, v);
            else if (typeof v === 'bigint') data[i] = Number(BigInt.asIntN(32, v));
            else data[i] = v;
        }
    }
    return { name: t.name, type, dims, data };
}

// ---- .npy (version 1/2/3, C order, little-endian) ----

const NPY = {
    '<f4': 'float32', '<f8': 'float64', '<f2': 'float16', '|u1': 'uint8', '|i1': 'int8',
    '<u2': 'uint16', '<i2': 'int16', '<i4': 'int32', '<i8': 'int64', '<u4': 'uint32',
    '<u8': 'uint64', '|b1': 'bool',
};
const NPY_ARR = {
    float32: Float32Array, float64: Float64Array, float16: Uint16Array, uint8: Uint8Array,
    int8: Int8Array, uint16: Uint16Array, int16: Int16Array, int32: Int32Array,
    int64: BigInt64Array, uint32: Uint32Array, uint64: BigUint64Array, bool: Uint8Array,
};

function parseNpy(buf, file) {
    if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
    const major = buf[6];
    const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
    const hstart = major === 1 ? 10 : 12;
    const header = buf.toString('latin1', hstart, hstart + hlen);
    const descr = /'descr':\s*'([^']+)'/.exec(header);
    const fortran = /'fortran_order':\s*(True|False)/.exec(header);
    const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
    if (!descr || !fortran || !shape) throw new Error(`${file}: bad .npy header`);
    if (fortran[1] === 'True') throw new Error(`${file}: Fortran-order .npy is not supported`);
    const type = NPY[descr[1]];
    if (!type) throw new Error(`${file}: unsupported .npy dtype ${descr[1]}`);
    const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
    const Arr = NPY_ARR[type];
    const count = dims.reduce((a, b) => a * b, 1);
    const body = buf.subarray(hstart + hlen);
    if (body.length < count * Arr.BYTES_PER_ELEMENT) throw new Error(`${file}: data too short`);
    const copy = new Uint8Array(body.subarray(0, count * Arr.BYTES_PER_ELEMENT));
    return { name: '', type, dims, data: new Arr(copy.buffer, 0, count) };
}

function loadTensor(file) {
    const buf = fs.readFileSync(file);
    return file.endsWith('.npy') ? parseNpy(buf, file) : parseTensorProto(buf, file);
}

// ---- checking ----

// Compares as float64 (exact for every type up to 32 bits); float16 raw bits
// are compared as bits, which is enough to catch a misread input.
function checkOutputs(files, names, results, quiet) {
    files.forEach((file, k) => {
        if (k >= names.length) die(`--expect ${file}: model has only ${names.length} outputs`);
        let want;
        try {
            want = loadTensor(file);
        } catch (e) {
            die(e.message);
        }
        const got = results[names[k]];
        if (got.data.length !== want.data.length) {
            die(`output ${k} (${names[k]}): ${got.data.length} elements, expected ` +
                `${want.data.length}`);
        }
        let worst = 0;
        let bad = -1;
        for (let i = 0; i < want.data.length; i++) {
            const a = Number(got.data[i]);
            const b = Number(want.data[i]);
            if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
            const d = Math.abs(a - b);
            if (!(d <= 1e-3 + 1e-3 * Math.abs(b)) && bad < 0) bad = i;
            if (!(d <= worst)) worst = d;
        }
        if (bad >= 0) {
            die(`output ${k} (${names[k]}): element ${bad} is ${got.data[bad]}, expected ` +
                `${want.data[bad]} (max |diff| ${worst})`);
        }
        if (!quiet) console.log(`check: output ${k} (${names[k]}) max |diff| ${worst}`);
    });
}

// ---- timing ----

function stats(ms) {
    const s = [...ms].sort((a, b) => a - b);
    const n = s.length;
    const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    const mean = s.reduce((a, b) => a + b, 0) / n;
    return { min: s[0], median, mean };
}

function parseArgs(argv) {
    const o = { model: null, inputs: [], expect: [], bench: 100, threads: 0, quiet: false,
                qdqFloat: false, opt: null };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--bench' || a === '--threads') {
            const v = Number(argv[++i]);
            if (!Number.isInteger(v) || v < (a === '--bench' ? 1 : 0)) die(`bad value for ${a}`);
            o[a.slice(2)] = v;
        } else if (a === '--expect') {
            if (i + 1 >= argv.length) die('--expect needs a file');
            o.expect.push(argv[++i]);
        } else if (a === '--quiet') {
            o.quiet = true;
        } else if (a === '--qdq-float') {
            o.qdqFloat = true;
        } else if (a === '--opt') {
            o.opt = argv[++i];
            const levels = ['disabled', 'basic', 'extended', 'all'];
            if (!levels.includes(o.opt)) die('bad value for --opt');
        } else if (a === '-h' || a === '--help') {
            process.stdout.write(USAGE + '\n');
            process.exit(0);
        } else if (a.startsWith('--')) {
            die(`unknown option ${a}\n${USAGE}`);
        } else if (!o.model) {
            o.model = a;
        } else {
            o.inputs.push(a);
        }
    }
    if (!o.model) die(USAGE);
    return o;
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    let ort;
    try {
        ort = require('onnxruntime-node');
    } catch (e) {
        die(`cannot load onnxruntime-node (run 'npm ci --ignore-scripts' in ${__dirname}): ` +
            e.message);
    }
    if (!fs.existsSync(o.model)) die(`${o.model}: no such file`);

    // Sequential execution and one inter-op thread in both modes: the comparison
    // is about kernels, and onnxcc runs nodes in order too. Only intra-op
    // parallelism (inside one kernel) differs between the 1-thread and default runs.
    const opts = { logSeverityLevel: 3, executionMode: 'sequential', interOpNumThreads: 1 };
    if (o.threads > 0) opts.intraOpNumThreads = o.threads;
    if (o.opt) opts.graphOptimizationLevel = o.opt;
    if (o.qdqFloat) opts.extra = { session: { qdq_matmulnbits_accuracy_level: '0' } };
    const session = await ort.InferenceSession.create(o.model, opts);

    const names = session.inputNames;
    const feeds = {};
    o.inputs.forEach((arg, k) => {
        let name = null;
        let file = arg;
        const eq = arg.indexOf('=');
        if (eq > 0 && !fs.existsSync(arg)) {
            name = arg.slice(0, eq);
            file = arg.slice(eq + 1);
        }
        if (!fs.existsSync(file)) die(`${file}: no such file`);
        let t;
        try {
            t = loadTensor(file);
        } catch (e) {
            die(e.message);
        }
        // Position decides, as in onnxcc's binary; a name stored in the .pb wins
        // only when it names a real input, since ONNX test data often has none.
        if (!name) name = names.includes(t.name) ? t.name : names[k];
        if (!names.includes(name)) die(`${file}: model has no input '${name}' (inputs: ${names})`);
        feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    });
    const missing = names.filter((n) => !(n in feeds));
    if (missing.length) die(`missing input(s): ${missing.join(', ')}`);

    const first = await session.run(feeds); // warm-up: first run allocates and plans
    checkOutputs(o.expect, session.outputNames, first, o.quiet);
    const ms = [];
    for (let i = 0; i < o.bench; i++) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const s = stats(ms);
    if (!o.quiet) {
        const ver = require('onnxruntime-node/package.json').version;
        const thr = o.threads > 0 ? `${o.threads}` : 'default';
        console.log(`onnxruntime-node ${ver}, intra-op threads: ${thr}, model: ` +
                    `${path.basename(path.dirname(path.resolve(o.model)))}/` +
                    `${path.basename(o.model)}`);
    }
    console.log(`latency: min ${s.min.toFixed(3)} ms, median ${s.median.toFixed(3)} ms, ` +
                `mean ${s.mean.toFixed(3)} ms over ${o.bench} runs`);
    await session.release();
}

main().catch((e) => die(e && e.message ? e.message : String(e)));
